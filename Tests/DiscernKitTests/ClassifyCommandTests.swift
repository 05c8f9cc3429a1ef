import Foundation
import XCTest

/// `discern classify` through the binary: the pretrained Lite0's ImageNet top-5 is the PyTorch reference's.
final class ClassifyCommandTests: XCTestCase {
    func testTopFiveAgainstThePyTorchReference() throws {
        let cat = try TestPaths.datasets.appendingPathComponent("cats-and-dogs/test_set/cats/cat.4001.jpg").path
        let dog = try TestPaths.datasets.appendingPathComponent("cats-and-dogs/test_set/dogs/dog.4001.jpg").path
        let answers: [[String: Any]] = try JSONFile.parse(try discern(
            ["classify", "--weights", try TestPaths.liteWeights.path, "--top", "5", "--json", cat, dog]))
        let reference = try Lite0Reference.compute([cat, dog])
        XCTAssertEqual(answers.count, 2)
        for (a, r) in zip(answers, reference) {
            XCTAssertEqual(a["path"] as? String, r.path)
            let top = try value(a, "top", as: [[String: Any]].self)
            XCTAssertEqual(top.map { $0["index"] as? Int ?? -1 }, r.imagenet_top5, r.path)
            for (t, p) in zip(top, r.imagenet_probabilities) {
                XCTAssertEqual(t["probability"] as? Double ?? .nan, p, accuracy: 0.01, r.path)
            }
        }
        // ImageNet's domestic cats are 281-285, its dog breeds 151-268.
        let catTop = try value(answers[0], "top", as: [[String: Any]].self)[0]
        XCTAssertTrue((281...285).contains(catTop["index"] as? Int ?? -1), "\(catTop)")
        XCTAssertTrue((catTop["name"] as? String ?? "").lowercased().contains("cat"), "\(catTop)")
        let dogTop = try value(answers[1], "top", as: [[String: Any]].self)[0]
        XCTAssertTrue((151...268).contains(dogTop["index"] as? Int ?? -1), "\(dogTop)")
    }
}
