import XCTest
import DiscernEngine
import DiscernWeights

/// Loads PyTorch reference fixtures written by tools/make_engine_fixtures.py.
enum Fixture {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/engine").standardized

    static func load(_ name: String) throws -> SafeTensors.File {
        try SafeTensors.read(dir.appendingPathComponent(name + ".safetensors"))
    }
}

extension SafeTensors.File {
    func t(_ key: String) throws -> Tensor {
        guard let v = tensors[key] else { throw EngineError.invalid("fixture has no tensor '\(key)'") }
        return v
    }
    func int(_ key: String) -> Int { Int(metadata[key] ?? "") ?? -1 }
}

/// Asserts shape equality and max|a-b| / max|ref| <= tol (the agreed relative-error measure).
func assertClose(_ actual: Tensor, _ ref: Tensor, tol: Float = 1e-4, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, ref.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == ref.shape else { return }
    var maxErr: Float = 0, maxRef: Float = 0
    for i in 0..<ref.count {
        maxErr = max(maxErr, abs(actual.data[i] - ref.data[i]))
        maxRef = max(maxRef, abs(ref.data[i]))
    }
    XCTAssertGreaterThan(maxRef, 0, "\(what): reference is all zeros", file: file, line: line)
    XCTAssertLessThanOrEqual(
        maxErr / max(maxRef, 1e-30), tol, "\(what): relative error \(maxErr / maxRef)", file: file, line: line)
}
