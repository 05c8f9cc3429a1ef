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

    /// `--image-size 192`: the model file keeps the side, and `predict` resizes to it and runs Lite0 built for it
    /// (its "same" padding), as the PyTorch reference built with `image_size=192` does with the file's head.
    func testImageSizeReachesTheModelFile() throws {
        let (data, _) = try TestPaths.subset(perClass: 24, testPerClass: 4, unknown: 0)
        let out = try TestPaths.temporaryDirectory("image-size")
        _ = try discern(["train", "--data", data.path, "--out", out.path, "--weights", try TestPaths.liteWeights.path,
                         "--epochs", "1", "--augment-views", "1", "--image-size", "192"])
        let model = out.appendingPathComponent("model.safetensors").path
        XCTAssertEqual(try ModelBytes(URL(fileURLWithPath: model)).metadata["imageSize"] as? Int, 192)
        let ds = try TestPaths.datasets
        let images = ["cats/cat.4001.jpg", "dogs/dog.4001.jpg"].map {
            ds.appendingPathComponent("cats-and-dogs/test_set/" + $0).path
        }
        let answers: [[String: Any]] = try JSONFile.parse(try discern(["predict", "--model", model, "--json"] + images))
        let reference = try Lite0Reference.compute(images, model: model, size: 192)
        XCTAssertEqual(answers.count, 2)
        for (answer, expected) in zip(answers, reference) {
            let logits = try value(answer, "logits", as: [Double].self)
            let want = try XCTUnwrap(expected.logits)
            XCTAssertEqual(logits.count, want.count)
            for (a, b) in zip(logits, want) { XCTAssertEqual(a, b, accuracy: 2e-3, expected.path) }
        }
        // The side Lite0 was not built for changes the logits: the comparison above can fail.
        let native = try XCTUnwrap(try Lite0Reference.compute([images[0]], model: model).first?.logits)
        let got = try value(answers[0], "logits", as: [Double].self)
        XCTAssertGreaterThan(zip(got, native).map { abs($0 - $1) }.max() ?? 0, 0.05)
    }
}
