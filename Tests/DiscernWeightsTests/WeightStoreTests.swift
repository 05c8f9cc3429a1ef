import XCTest
import DiscernEngine
@testable import DiscernWeights

/// Key checking when a model takes its weights: each mistake names the key (and both shapes).
final class WeightStoreTests: XCTestCase {
    let w = Tensor(zeros: [2, 3])

    func testMissingMismatchedAndUnexpectedKeys() throws {
        let store = WeightStore([
            "a.weight": w, "b.bias": Tensor(zeros: [4]), "c.num_batches_tracked": Tensor(zeros: [])
        ])
        XCTAssertThrowsError(try store.take("z.weight", shape: [1])) { e in
            XCTAssertEqual("\(e)", "weights: missing key 'z.weight'")
        }
        XCTAssertThrowsError(try store.take("a.weight", shape: [3, 2])) { e in
            XCTAssertEqual("\(e)", "weights: 'a.weight' has shape [2, 3], the model expects [3, 2]")
        }
        XCTAssertEqual(try store.take("a.weight", shape: [2, 3]), w)
        XCTAssertThrowsError(try store.finish()) { e in
            XCTAssertEqual("\(e)", "weights: 1 unexpected key(s): b.bias")   // num_batches_tracked is not counted
        }
        XCTAssertNoThrow(try store.finish(ignoring: ["b."]))
    }

    func testDataParallelPrefixIsStrippedOnlyWhenEveryKeyHasIt() throws {
        let all = WeightStore(["module.a.weight": w, "module.b.weight": w])
        XCTAssertEqual(all.keys, ["a.weight", "b.weight"])
        let mixed = WeightStore(["module.a.weight": w, "b.weight": w])
        XCTAssertEqual(mixed.keys, ["b.weight", "module.a.weight"])
    }
}
