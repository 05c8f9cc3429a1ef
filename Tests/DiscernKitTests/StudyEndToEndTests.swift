import Foundation
import XCTest
@testable import DiscernKit
import DiscernModels

/// The whole study on a small subset (48 training and 16 test images per class, 2 epochs):
/// the model file round-trips, metrics.json has its keys, accuracy is far above chance.
final class StudyEndToEndTests: XCTestCase {
    func testSmallStudy() throws {
        let weights = try TestPaths.liteWeights
        let (data, unknown) = try TestPaths.subset(perClass: 48, testPerClass: 16, unknown: 24)
        let out = try TestPaths.temporaryDirectory("study")
        var o = StudyOptions(data: data.path)
        o.unknown = [unknown.path]
        o.epochs = 2; o.augmentViews = 1; o.out = out.path; o.force = true
        o.weights = weights.path
        Progress.quiet = true
        let outcome = try Study(options: o).run()

        XCTAssertGreaterThan(outcome.test.table!.accuracy, 0.8, "test accuracy")
        XCTAssertEqual(outcome.classes, ["cats", "dogs"])

        // metrics.json keys
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as! [String: Any]
        let acc = metrics["accuracy"] as! [String: Any], timing = metrics["timing"] as! [String: Any]
        XCTAssertNotNil(acc["train"] as? Double); XCTAssertNotNil(acc["test"] as? Double)
        XCTAssertNotNil(timing["train_seconds"] as? Double); XCTAssertNotNil(timing["eval_seconds"] as? Double)
        XCTAssertNotNil(metrics["threshold"]); XCTAssertNotNil(metrics["test"])
        let ood = metrics["ood"] as! [String: Any], flowers = ood["flowers"] as! [String: Any]
        XCTAssertEqual(flowers["n"] as? Int, 24)
        let scores = flowers["scores"] as! [String: Any]
        for s in ["density", "msp", "energy", "mahalanobis", "knn"] { XCTAssertNotNil(scores[s], "score \(s)") }

        // The model file is self-contained and gives the run's logits for a test image.
        let service = try DiscernModelService.load(path: outcome.modelPath)
        XCTAssertEqual(service.info.classes, ["cats", "dogs"])
        XCTAssertEqual(service.model.metadata.backbone, BackboneKind.efficientnetLite0.rawValue)
        let row = outcome.test.table!.rows[0]
        let (preds, failures) = try service.predictFiles([row.path])
        XCTAssertTrue(failures.isEmpty)
        for (a, b) in zip(preds[0].logits, row.logits) { XCTAssertEqual(a, Double(b), accuracy: 1e-3) }
        guard case let .twoQuestions(u, s) = outcome.robustness!.rule else { return XCTFail("default run must ask two questions") }
        XCTAssertEqual(preds[0].unknown?.threshold ?? .nan, u.value, accuracy: 1e-12)
        XCTAssertEqual(preds[0].unsure?.threshold ?? .nan, s.value, accuracy: 1e-12)
        XCTAssertEqual([preds[0].unknown?.score, preds[0].unsure?.score], [u.score, s.score])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))

        // `discern predict` on a cat, a dog and a flower none of the run has seen: sensible labels and verdicts.
        let ds = try TestPaths.datasets
        let cat = ds.appendingPathComponent("cats-and-dogs/test_set/cats/cat.4500.jpg").path
        let dog = ds.appendingPathComponent("cats-and-dogs/test_set/dogs/dog.4500.jpg").path
        let flowerFiles = try FileManager.default.contentsOfDirectory(atPath: ds.appendingPathComponent("unknown/flowers").path).sorted()
        let flower = ds.appendingPathComponent("unknown/flowers/\(flowerFiles.last!)").path
        let cli = try TestPaths.run(["predict", "--model", outcome.modelPath, "--json", cat, dog, flower])
        XCTAssertEqual(cli.status, 0, cli.err)
        let answers = try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as! [[String: Any]]
        XCTAssertEqual(answers.map { $0["path"] as? String }, [cat, dog, flower])
        XCTAssertEqual(answers[0]["label"] as? String, "cats")
        XCTAssertEqual(answers[1]["label"] as? String, "dogs")
        XCTAssertEqual(answers[2]["verdict"] as? String, "unknown", "a flower must not be trusted as a cat or a dog")
        for a in answers {
            for k in ["scores", "logits", "ood", "verdict", "reason", "threshold", "score", "unknown", "unsure"] {
                XCTAssertNotNil(a[k], "predict JSON lacks \(k)")
            }
        }

        // --resume after an interruption: the finished extractions come back from the cache (one is
        // removed here as if the kill came during it), and the result is the same.
        let cache = out.appendingPathComponent("cache")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache.appendingPathComponent("train-view0.safetensors").path))
        try FileManager.default.removeItem(at: cache.appendingPathComponent("eval-test.safetensors"))
        try FileManager.default.removeItem(at: out.appendingPathComponent("metrics.json"))
        var again = o
        again.force = false; again.resume = true; again.explain = false
        let resumed = try Study(options: again).run()
        XCTAssertEqual(resumed.test.table!.rows.map(\.predicted), outcome.test.table!.rows.map(\.predicted))
        XCTAssertEqual(resumed.train.features.features.data, outcome.train.features.features.data, "cached training features reused")
        for (a, b) in zip(resumed.test.logits.data, outcome.test.logits.data) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.json").path))

        // A second run into the same folder without --force or --resume is refused.
        XCTAssertThrowsError(try Study(options: { var p = o; p.force = false; return p }()).run()) { e in
            XCTAssertTrue("\(e)".contains("--force"))
        }
    }
}
