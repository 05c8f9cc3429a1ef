import Foundation
import XCTest
@testable import DiscernKit
import DiscernModels
import DiscernTestSupport

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
        let outcome = try Study(options: o).run()

        XCTAssertGreaterThan(outcome.test.table.accuracy, 0.8, "test accuracy")
        XCTAssertEqual(outcome.classes, ["cats", "dogs"])

        // metrics.json keys
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as! [String: Any]
        let acc = metrics["accuracy"] as! [String: Any], timing = metrics["timing"] as! [String: Any]
        XCTAssertNotNil(acc["train"] as? Double); XCTAssertNotNil(acc["test"] as? Double)
        XCTAssertNotNil(timing["train_seconds"] as? Double); XCTAssertNotNil(timing["eval_seconds"] as? Double)
        XCTAssertNotNil(metrics["threshold"]); XCTAssertNotNil(metrics["test"])
        // The unknown score was chosen against all three kinds of proxy unknowns, the close-ups of photos among them.
        XCTAssertEqual(outcome.robustness.choice.byKind.keys.sorted(),
                       ["each class left out of the reference", "enlarged close-ups", "permuted feature columns"])
        let criterion = (metrics["threshold"] as? [String: Any])?["default_score_criterion"] as? String ?? ""
        XCTAssertTrue(criterion.contains("enlarged close-ups"), criterion)
        XCTAssertTrue(criterion.contains("among the scores that separate permuted feature columns"), criterion)
        let ood = metrics["ood"] as! [String: Any], flowers = ood["flowers"] as! [String: Any]
        XCTAssertEqual(flowers["n"] as? Int, 24)
        let scores = flowers["scores"] as! [String: Any]
        for s in ["density", "msp", "energy", "mahalanobis", "knn"] { XCTAssertNotNil(scores[s], "score \(s)") }

        // The model file is self-contained and gives the run's logits for a test image.
        let service = try DiscernModelService.load(path: outcome.modelPath)
        XCTAssertEqual(service.info.classes, ["cats", "dogs"])
        XCTAssertEqual(service.model.metadata.backbone, BackboneKind.efficientnetLite0.rawValue)
        let row = outcome.test.table.rows[0]
        let (preds, failures) = try service.predictFiles([row.path])
        XCTAssertTrue(failures.isEmpty)
        for (a, b) in zip(preds[0].logits, row.logits) { XCTAssertEqual(a, Double(b), accuracy: 1e-3) }
        guard case let .twoQuestions(u, s) = outcome.robustness.rule else { return XCTFail("default run must ask two questions") }
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

        // The study's single-score rule: `--score density --threshold 0.04` decides by density alone, and says so.
        let study = try TestPaths.run(["predict", "--model", outcome.modelPath, "--json", "--score", "density",
                                       "--threshold", "0.04", cat, dog, flower])
        XCTAssertEqual(study.status, 0, study.err)
        let single = try JSONSerialization.jsonObject(with: Data(study.out.utf8)) as! [[String: Any]]
        XCTAssertEqual(single.count, 3)
        for a in single {
            let density = try XCTUnwrap((a["ood"] as? [String: Double])?["density"])
            XCTAssertEqual(a["verdict"] as? String, density >= 0.04 ? "accept" : "unsure", "density \(density)")
            XCTAssertEqual(a["score"] as? String, "density")
            XCTAssertEqual(a["threshold"] as? Double, 0.04)
            XCTAssertNil(a["unknown"], "the single-score rule asks no unknown question")
            let unsure = try XCTUnwrap(a["unsure"] as? [String: Any])
            XCTAssertEqual(unsure["score"] as? String, "density")
            XCTAssertEqual(unsure["threshold"] as? Double, 0.04)
        }
        try checkEvaluate(model: outcome.modelPath, data: data, unknown: unknown,
                          out: out.appendingPathComponent("evaluate"))

        // --resume after an interruption: the finished extractions come back from the cache (one is
        // removed here as if the kill came during it), and the result is the same.
        let cache = out.appendingPathComponent("cache")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache.appendingPathComponent("train-view0.safetensors").path))
        try FileManager.default.removeItem(at: cache.appendingPathComponent("eval-test.safetensors"))
        try FileManager.default.removeItem(at: out.appendingPathComponent("metrics.json"))
        var again = o
        again.force = false; again.resume = true; again.explain = false
        let resumed = try Study(options: again).run()
        XCTAssertEqual(resumed.test.table.rows.map(\.predicted), outcome.test.table.rows.map(\.predicted))
        XCTAssertEqual(resumed.train.features.features.data, outcome.train.features.features.data, "cached training features reused")
        for (a, b) in zip(resumed.test.logits.data, outcome.test.logits.data) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // The cache keeps each image's decoded size, so the verdict (its small-photo threshold among it) is the same.
        XCTAssertEqual(resumed.train.features.sourceSizes, outcome.train.features.sourceSizes)
        XCTAssertEqual(resumed.robustness.rule, outcome.robustness.rule)
        try checkSizesAgainstPIL(outcome.train.features)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.json").path))

        // A second run into the same folder without --force or --resume is refused.
        XCTAssertThrowsError(try Study(options: { var p = o; p.force = false; return p }()).run()) { e in
            XCTAssertTrue("\(e)".contains("--force"))
        }
    }

    /// `discern evaluate --shifted/--unknown` on the subset's test images (as a shifted set) and flowers: every number
    /// it writes for the verdict and per score is recounted here from `predict --json` on the same images.
    func checkEvaluate(model: String, data: URL, unknown: URL, out: URL) throws {
        let test = data.appendingPathComponent("test_set")
        let cli = try TestPaths.run(["evaluate", "--model", model, "--data", test.path, "--shifted", test.path,
                                     "--unknown", unknown.path, "--out", out.path])
        XCTAssertEqual(cli.status, 0, cli.err)
        let written = try Data(contentsOf: out.appendingPathComponent("metrics.json"))
        let metrics = try JSONSerialization.jsonObject(with: written) as! [String: Any]
        let stored = try DiscernModelService.load(path: model).model.metadata.thresholds
        let thresholds = Dictionary(uniqueKeysWithValues: stored.map { ($0.key.rawValue, $0.value) })
        let fm = FileManager.default
        func predictions(_ files: [String]) throws -> [[String: Any]] {
            let r = try TestPaths.run(["predict", "--model", model, "--json"] + files)
            XCTAssertEqual(r.status, 0, r.err)
            return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [[String: Any]]
        }
        func ood(_ p: [String: Any], _ s: String) -> Double { (p["ood"] as? [String: Double])?[s] ?? .nan }
        func share(_ n: Int, _ of: Int) -> Double { Double(n) / Double(of) }

        var testFiles: [String] = [], truth: [String] = []
        for cls in ["cats", "dogs"] {
            for f in try fm.contentsOfDirectory(atPath: test.appendingPathComponent(cls).path).sorted() {
                testFiles.append(test.appendingPathComponent("\(cls)/\(f)").path); truth.append(cls)
            }
        }
        let inPreds = try predictions(testFiles)
        let correct = zip(inPreds, truth).map { $0.0["label"] as? String == $0.1 }
        let right = correct.filter { $0 }.count, wrong = correct.count - right
        let shifted = try XCTUnwrap((metrics["shifted"] as? [String: Any])?["test_set"] as? [String: Any])
        XCTAssertEqual(shifted["images"] as? Int, testFiles.count)
        XCTAssertEqual(try XCTUnwrap(shifted["accuracy"] as? Double), share(right, correct.count), accuracy: 1e-12)
        let verdict = try XCTUnwrap(shifted["verdict"] as? [String: Any])
        let kept = zip(inPreds, correct).filter { $0.1 && $0.0["verdict"] as? String == "accept" }.count
        let flagged = zip(inPreds, correct).filter { !$0.1 && $0.0["verdict"] as? String != "accept" }.count
        XCTAssertEqual(try XCTUnwrap(verdict["correct_accepted"] as? Double), share(kept, right), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(verdict["errors_flagged"] as? Double), wrong > 0 ? share(flagged, wrong) : 1,
                       accuracy: 1e-12)
        let byScore = try XCTUnwrap(shifted["by_score"] as? [String: [String: Double]])
        for s in ["knn", "msp", "vim", "density"] {
            let t = try XCTUnwrap(thresholds[s], s)
            let keptBy = zip(inPreds, correct).filter { $0.1 && ood($0.0, s) >= t }.count
            XCTAssertEqual(try XCTUnwrap(byScore[s]?["correct_accepted"]), share(keptBy, right), accuracy: 1e-12, s)
        }

        let flowerFiles = try fm.contentsOfDirectory(atPath: unknown.path).sorted()
            .map { unknown.appendingPathComponent($0).path }
        let outPreds = try predictions(flowerFiles)
        let flowers = try XCTUnwrap((metrics["unknown"] as? [String: Any])?["flowers"] as? [String: Any])
        XCTAssertEqual(flowers["images"] as? Int, flowerFiles.count)
        let shares = try XCTUnwrap(flowers["verdict"] as? [String: Double])
        for kind in ["accept", "unknown", "unsure"] {
            let n = outPreds.filter { $0["verdict"] as? String == kind }.count
            XCTAssertEqual(try XCTUnwrap(shares[kind], kind), share(n, flowerFiles.count), accuracy: 1e-12, kind)
        }
        XCTAssertGreaterThan(shares["unknown"] ?? 0, 0.5, "most flowers must be called unknown")
        let rejected = try XCTUnwrap(flowers["rejected_by_score"] as? [String: Double])
        let auroc = try XCTUnwrap(flowers["scores"] as? [String: [String: Double]])
        for s in ["knn", "msp", "vim", "density"] {
            let t = try XCTUnwrap(thresholds[s], s)
            let rejectedCount = outPreds.filter { ood($0, s) < t }.count
            XCTAssertEqual(try XCTUnwrap(rejected[s], s), share(rejectedCount, flowerFiles.count), accuracy: 1e-12, s)
            // AUROC counted pair by pair: P(in-distribution score > unknown score), ties counting one half.
            var wins = 0.0
            for i in inPreds {
                for o in outPreds { let a = ood(i, s), b = ood(o, s); wins += a > b ? 1 : a == b ? 0.5 : 0 }
            }
            let pairs = Double(inPreds.count * outPreds.count)
            XCTAssertEqual(try XCTUnwrap(auroc[s]?["auroc"], s), wins / pairs, accuracy: 1e-9, s)
        }
    }
}

/// The decoded sizes a feature extraction recorded equal PIL's `Image.open(path).size` (the first 8 images).
func checkSizesAgainstPIL(_ set: FeatureSet, file: StaticString = #filePath, line: UInt = #line) throws {
    let python = try TestEnvironment.python(importing: "PIL")
    let paths = Array(set.paths.prefix(8))
    let script = "import json, sys\nfrom PIL import Image\nprint(json.dumps([Image.open(p).size for p in sys.argv[1:]]))"
    let run = try TestPaths.execute(URL(fileURLWithPath: python), ["-c", script] + paths)
    guard run.status == 0 else { throw CommandFailure("PIL sizes failed: \(run.err.suffix(1000))") }
    let sizes: [[Int]] = try JSONFile.parse(run.out)
    XCTAssertEqual(sizes.count, paths.count, file: file, line: line)
    for (size, recorded) in zip(sizes, set.sourceSizes) {
        XCTAssertEqual(size, [recorded.width, recorded.height], file: file, line: line)
    }
}
