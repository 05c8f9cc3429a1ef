import Foundation
import XCTest

/// `discern run` through the binary (the shared fixture's run): what metrics.json reports is what its
/// per-image table says, and the model file it writes reproduces the run's logits.
final class RunCommandTests: XCTestCase {
    func testMetricsEqualTheTablesRecount() throws {
        let model = try TrainedModel.shared()
        let table = try PredictionCSV(model.out.appendingPathComponent("predictions/test.csv"))
        XCTAssertEqual(table.rows.count, 24, "12 test photos per class")
        XCTAssertEqual(Set(table.rows.map(\.path)), Set(try model.testImages().map(\.path)))
        for row in table.rows {
            XCTAssertEqual(row.trueClass, URL(fileURLWithPath: row.path).deletingLastPathComponent().lastPathComponent)
        }
        let accuracy = try value(model.metrics, "accuracy", "test", as: Double.self)
        XCTAssertEqual(accuracy, table.recountedAccuracy, accuracy: 1e-12)
        XCTAssertTrue(model.stdout.contains(String(format: "test accuracy %.4f", accuracy)), model.stdout)
        XCTAssertGreaterThan(accuracy, 0.75, "Lite0 features separate cats from dogs after a few epochs")
        for row in table.rows {
            XCTAssertEqual(row.predicted, TrainedModel.classes[row.logits[1] > row.logits[0] ? 1 : 0], row.path)
        }

        let training = try value(model.metrics, "training", as: [String: Any].self)
        XCTAssertEqual(training["epochs"] as? Int, TrainedModel.epochs)
        XCTAssertEqual((training["train_images"] as? Int ?? 0) + (training["validation_images"] as? Int ?? 0), 64)
        XCTAssertEqual(try value(model.metrics, "ood", "flowers", "n", as: Int.self), 16)
        XCTAssertEqual(try value(model.metrics, "attention", "images", as: Int.self), 24, "every test image explained")
        let report = try String(contentsOf: model.out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<svg"), "report.html has its charts")
    }

    /// `predict` with the run's model file gives the logits the run's table holds for the same photos.
    func testModelFileReproducesTheRunsLogits() throws {
        let model = try TrainedModel.shared()
        let rows = Array(try PredictionCSV(model.out.appendingPathComponent("predictions/test.csv")).rows.prefix(6))
        let answers = try predictJSON(model.modelPath, rows.map(\.path))
        XCTAssertEqual(answers.count, rows.count)
        for (a, row) in zip(answers, rows) {
            let logits = try value(a, "logits", as: [Double].self)
            XCTAssertEqual(logits.count, row.logits.count)
            for (x, y) in zip(logits, row.logits) { XCTAssertEqual(x, y, accuracy: 1e-3, row.path) }
            XCTAssertEqual(a["label"] as? String, row.predicted)
        }
    }
}
