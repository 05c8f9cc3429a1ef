import Foundation
import XCTest

/// `discern train` through the binary: with the shared run's data, seed and options it writes the same
/// model as `discern run` (the same head and thresholds, so the same logits and verdicts), and no report.
final class TrainCommandTests: XCTestCase {
    func testTrainWritesTheRunsModel() throws {
        let model = try TrainedModel.shared()
        let out = try TestPaths.temporaryDirectory("train")
        let weights = try TestPaths.liteWeights
        let arguments = TrainedModel.trainingArguments(data: model.data, out: out, weights: weights)
        let printed = try discern(["train"] + arguments)
        let trained = out.appendingPathComponent("model.safetensors").path
        XCTAssertEqual(printed.trimmingCharacters(in: .whitespacesAndNewlines), "model: \(trained)")
        let report = out.appendingPathComponent("report.html").path
        XCTAssertFalse(FileManager.default.fileExists(atPath: report), "train writes no report")

        let images = try model.testImages().prefix(3).map(\.path) + model.flowerImages().prefix(2)
        assertSameJSON(try predictJSON(trained, images), try predictJSON(model.modelPath, images), tolerance: 1e-6)
    }
}
