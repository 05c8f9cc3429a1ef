import Foundation
import XCTest
import DiscernKit
import DiscernVision

/// `discern predict` through the binary with the shared run's model file.
final class PredictCommandTests: XCTestCase {
    /// Logits equal the reference model's features times the head read from the model file; label, softmax
    /// and verdict follow from them and from the model's stored thresholds.
    func testJSONAgainstThePyTorchReference() throws {
        let model = try TrainedModel.shared()
        let tests = try model.testImages()
        let images = [tests.first!.path, tests.last!.path, try model.flowerImages().first!]
        let answers = try predictJSON(model.modelPath, images)
        let reference = try Lite0Reference.compute(images, model: model.modelPath)
        XCTAssertEqual(answers.count, images.count)
        for (a, r) in zip(answers, reference) {
            XCTAssertEqual(a["path"] as? String, r.path)
            let logits = try value(a, "logits", as: [Double].self), expected = try XCTUnwrap(r.logits)
            XCTAssertEqual(logits.count, 2)
            // JPEG decoding and resizing agree with PIL's to a grey level; the logits to a few hundredths.
            for (x, y) in zip(logits, expected) {
                XCTAssertEqual(x, y, accuracy: 0.05, "\(r.path) logits \(logits) vs \(expected)")
            }
            XCTAssertEqual(a["label"] as? String, TrainedModel.classes[try XCTUnwrap(r.predicted)], r.path)
            let probabilities = softmax(logits)
            let scores = try value(a, "scores", as: [String: Double].self)
            for (k, c) in TrainedModel.classes.enumerated() {
                XCTAssertEqual(scores[c] ?? .nan, probabilities[k], accuracy: 1e-6)
            }
            // The two questions: accept only when both scores reach their thresholds.
            let unknown = try value(a, "unknown", as: [String: Any].self)
            let unsure = try value(a, "unsure", as: [String: Any].self)
            let ood = try value(a, "ood", as: [String: Double].self)
            var passes: [Bool] = []
            for q in [unknown, unsure] {
                let name = try value(q, "score", as: String.self)
                XCTAssertEqual(try value(q, "value", as: Double.self), try XCTUnwrap(ood[name], name), accuracy: 1e-9)
                passes.append(try value(q, "value", as: Double.self) >= (try value(q, "threshold", as: Double.self)))
            }
            let verdict = try value(a, "verdict", as: String.self)
            XCTAssertEqual(verdict, !passes[0] ? "unknown" : !passes[1] ? "unsure" : "accept", r.path)
        }
    }

    /// The study's single-score rule: accept exactly when the density score reaches the threshold (the study's
    /// 0.04, and the images' median density, which must split them).
    func testSingleScoreRule() throws {
        let model = try TrainedModel.shared()
        let images = try model.testImages().prefix(4).map(\.path) + model.flowerImages().prefix(4)
        let densities = try predictJSON(model.modelPath, images)
            .map { try value($0, "ood", "density", as: Double.self) }
        let median = densities.sorted()[densities.count / 2]
        for threshold in [0.04, median] {
            let options = ["--score", "density", "--threshold", "\(threshold)"]
            let answers = try predictJSON(model.modelPath, images, options: options)
            XCTAssertEqual(answers.count, images.count)
            var kinds = Set<String>()
            for a in answers {
                let density = try value(a, "ood", "density", as: Double.self)
                XCTAssertEqual(a["score"] as? String, "density")
                XCTAssertEqual(a["threshold"] as? Double ?? .nan, threshold, accuracy: 1e-12)
                let verdict = try value(a, "verdict", as: String.self)
                kinds.insert(verdict)
                XCTAssertEqual(verdict == "accept", density >= threshold, "density \(density), verdict \(verdict)")
            }
            if threshold == median { XCTAssertEqual(kinds.count, 2, "the median splits the verdicts: \(kinds)") }
        }
    }

    /// --explain DIR writes a Grad-CAM overlay per image at the photo's size; the table row of each image
    /// gives the label the run's per-image table has for it.
    func testExplainFolderAndTable() throws {
        let model = try TrainedModel.shared()
        let runTable = try PredictionCSV(model.out.appendingPathComponent("predictions/test.csv"))
        let rows = [runTable.rows.first!, runTable.rows.last!]
        let dir = try TestPaths.temporaryDirectory("predict-explain")
        let table = try discern(["predict", "--model", model.modelPath, "--explain", dir.path] + rows.map(\.path))
        for row in rows {
            let file = URL(fileURLWithPath: row.path).lastPathComponent
            let line = try XCTUnwrap(table.split(separator: "\n").first { $0.hasPrefix(file + " ") }, "no row: \(file)")
            XCTAssertEqual(line.split(separator: " ")[1], Substring(row.predicted), String(line))
            let photo = try ImageCodec.decodeFile(row.path)
            let name = URL(fileURLWithPath: row.path).deletingPathExtension().lastPathComponent
            let overlay = try ImageCodec.decodeFile(dir.appendingPathComponent("\(name).cam.png").path)
            XCTAssertEqual([overlay.width, overlay.height], [photo.width, photo.height])
            XCTAssertNotEqual(overlay.pixels, photo.pixels, "the overlay must differ from the photo")
        }
    }
}
