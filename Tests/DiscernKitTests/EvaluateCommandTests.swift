import Foundation
import XCTest
import DiscernTestSupport

/// `discern evaluate` through the binary with the shared run's model: its accuracy is the run's and the
/// recount of its own table; --shifted and --unknown figures are recounted from `predict --json`.
final class EvaluateCommandTests: XCTestCase {
    func testEvaluateWithUnknownAndShifted() throws {
        let model = try TrainedModel.shared()
        let shifted = try Self.otherTestPhotos(count: 8)
        let out = try TestPaths.temporaryDirectory("evaluate")
        let printed = try discern(["evaluate", "--model", model.modelPath, "--data", model.data.path,
                                   "--unknown", model.unknown.path, "--shifted", shifted.path,
                                   "--out", out.path, "--force"])
        let metrics = try JSONFile.object(out.appendingPathComponent("metrics.json"))

        // The test set: the run's accuracy, and what the per-image table recounts.
        let table = try PredictionCSV(out.appendingPathComponent("test.csv"))
        XCTAssertEqual(table.rows.count, 24)
        let accuracy = try value(metrics, "test", "accuracy", as: Double.self)
        XCTAssertEqual(accuracy, try value(model.metrics, "accuracy", "test", as: Double.self), accuracy: 1e-12)
        XCTAssertEqual(accuracy, table.recountedAccuracy, accuracy: 1e-12)
        XCTAssertTrue(printed.contains(String(format: "test: accuracy %.4f on 24 images", accuracy))
                      || printed.contains(String(format: "accuracy %.4f", accuracy)), printed)

        // --shifted: accuracy and verdict shares as the per-image predictions recount them.
        let shiftedFiles = try TrainedModel.classes.flatMap { c in
            try FileManager.default.contentsOfDirectory(atPath: shifted.appendingPathComponent(c).path).sorted()
                .map { (shifted.appendingPathComponent("\(c)/\($0)").path, c) }
        }
        let shiftedAnswers = try predictJSON(model.modelPath, shiftedFiles.map(\.0))
        let correct = zip(shiftedAnswers, shiftedFiles).map { ($0["label"] as? String) == $1.1 }
        let verdicts = shiftedAnswers.map { $0["verdict"] as? String ?? "" }
        let name = shifted.lastPathComponent
        XCTAssertEqual(try value(metrics, "shifted", name, "images", as: Int.self), 16)
        XCTAssertEqual(try value(metrics, "shifted", name, "accuracy", as: Double.self),
                       Double(correct.filter { $0 }.count) / 16, accuracy: 1e-12)
        for kind in ["accept", "unknown", "unsure"] {
            XCTAssertEqual(try value(metrics, "shifted", name, "verdict", "shares", kind, as: Double.self),
                           Double(verdicts.filter { $0 == kind }.count) / 16, accuracy: 1e-12, kind)
        }

        // --unknown: each score's AUROC (test photos against flowers), recounted pair by pair from predict's scores.
        let testAnswers = try predictJSON(model.modelPath, table.rows.map(\.path))
        let flowerAnswers = try predictJSON(model.modelPath, try model.flowerImages())
        XCTAssertEqual(try value(metrics, "unknown", "flowers", "images", as: Int.self), 16)
        for score in ["msp", "energy", "knn", "mahalanobis"] {
            let inside = try testAnswers.map { try value($0, "ood", score, as: Double.self) }
            let outside = try flowerAnswers.map { try value($0, "ood", score, as: Double.self) }
            XCTAssertEqual(try value(metrics, "unknown", "flowers", "scores", score, "auroc", as: Double.self),
                           Self.auroc(inside: inside, outside: outside), accuracy: 1e-9, score)
        }
        let unknownShare = try value(metrics, "unknown", "flowers", "verdict", "unknown", as: Double.self)
        XCTAssertEqual(unknownShare, Double(flowerAnswers.filter { $0["verdict"] as? String == "unknown" }.count) / 16,
                       accuracy: 1e-12)

        // verdict.svg: a bar per set and figure, as recounted from the per-image table and predict's verdicts.
        let svg = try String(contentsOf: out.appendingPathComponent("verdict.svg"), encoding: .utf8)
        let probe = XMLProbe.parse(svg)
        var bars: [String: Double] = [:]
        var series = ""
        for element in probe.elements {
            if element.name == "g", let name = element.attributes["data-name"] { series = name }
            if element.name == "rect", let category = element.attributes["data-category"] {
                bars[series + " / " + category] = element.num("data-value")
            }
        }
        let testAccepted = testAnswers.map { $0["verdict"] as? String == "accept" }
        let testCorrect = table.rows.map { $0.trueClass == $0.predicted }
        let shiftedAccepted = verdicts.map { $0 == "accept" }
        func share(_ counted: [Bool], among: [Bool]) -> Double {
            Double(zip(counted, among).filter { $0.0 && $0.1 }.count) / Double(among.filter { $0 }.count)
        }
        let expected: [String: Double] = [
            "accuracy / test": table.recountedAccuracy,
            "accuracy / \(name)": Double(correct.filter { $0 }.count) / 16,
            "correct answers accepted / test": share(testAccepted, among: testCorrect),
            "correct answers accepted / \(name)": share(shiftedAccepted, among: correct),
            "unknown images rejected / flowers":
                Double(flowerAnswers.filter { $0["verdict"] as? String != "accept" }.count) / 16,
        ]
        for (bar, wanted) in expected {
            XCTAssertEqual(bars[bar] ?? .nan, wanted, accuracy: 1e-4, bar)
        }
        // Errors flagged: a bar only where the set has errors.
        for (set, right, accepted) in [("test", testCorrect, testAccepted), (name, correct, shiftedAccepted)] {
            let wrong = right.map { !$0 }
            if wrong.contains(true) {
                XCTAssertEqual(bars["errors flagged / \(set)"] ?? .nan,
                               share(accepted.map { !$0 }, among: wrong), accuracy: 1e-4, set)
            } else {
                XCTAssertNil(bars["errors flagged / \(set)"], set)
            }
        }
        XCTAssertNil(bars["accuracy / train"], "the training set is drawn only when it is the only set")
        XCTAssertNil(bars["accuracy / flowers"], "an unknown set has no accuracy")
    }

    /// P(in-distribution score > outside score), ties counting one half (higher = more in-distribution).
    static func auroc(inside: [Double], outside: [Double]) -> Double {
        var wins = 0.0
        for a in inside { for b in outside { wins += a > b ? 1 : a == b ? 0.5 : 0 } }
        return wins / Double(inside.count * outside.count)
    }

    /// `count` test photos per class that the shared run has not seen (after its first 12), as a labelled folder.
    static func otherTestPhotos(count: Int) throws -> URL {
        let ds = try TestPaths.datasets
        let root = try TestPaths.temporaryDirectory("shifted").appendingPathComponent("elsewhere")
        let fm = FileManager.default
        for c in TrainedModel.classes {
            let src = ds.appendingPathComponent("cats-and-dogs/test_set/\(c)")
            let dst = root.appendingPathComponent(c)
            try fm.createDirectory(at: dst, withIntermediateDirectories: true)
            let photos = try fm.contentsOfDirectory(atPath: src.path).filter { $0.hasSuffix(".jpg") }.sorted()
            for f in photos.dropFirst(12).prefix(count) {
                try fm.createSymbolicLink(at: dst.appendingPathComponent(f),
                                          withDestinationURL: src.appendingPathComponent(f))
            }
        }
        return root
    }
}
