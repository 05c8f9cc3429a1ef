import Foundation
import XCTest
@testable import DiscernKit
import DiscernWeights

/// A run killed in the middle loses nothing finished: `--resume` picks up the cached extractions and completes;
/// an output folder that cannot be written is refused before any work starts.
final class InterruptTests: XCTestCase {
    func testKilledRunResumes() throws {
        let weights = try TestPaths.liteWeights
        let (data, _) = try TestPaths.subset(perClass: 32, testPerClass: 8, unknown: 0)
        // A broken image among them: skipped with one line, listed in the report, the run completes.
        try Data().write(to: data.appendingPathComponent("training_set/cats/broken.jpg"))
        try Data("not an image".utf8).write(to: data.appendingPathComponent("test_set/dogs/text.jpg"))
        // So is a photo in a format Discern does not read, named by its format.
        try FileManager.default.copyItem(atPath: TestPaths.repo.appendingPathComponent("Tests/Fixtures/vision/other/picture.gif").path,
                                         toPath: data.appendingPathComponent("training_set/dogs/picture.gif").path)
        let out = try TestPaths.temporaryDirectory("killed").appendingPathComponent("run")
        let args = ["run", "--data", data.path, "--out", out.path, "--epochs", "2", "--augment-views", "3", "--no-explain",
                    "--weights", weights.path]
        // Kill it as soon as the first augmented view is safely on disk.
        try runKilled(args, once: out.appendingPathComponent("cache/train-view0.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.json").path))

        // Without --resume the folder is not reused silently...
        let refused = try TestPaths.run(args)
        XCTAssertNotEqual(refused.status, 0)
        // ...with it, the run completes and reuses what was finished.
        let resumed = try TestPaths.run(args + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("augmented view 1/3:") && resumed.err.contains("from the cache of an earlier attempt"), resumed.err)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as? [String: Any]
        XCTAssertNotNil((metrics?["accuracy"] as? [String: Any])?["test"])
        let skipped = (metrics?["skipped"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        XCTAssertTrue(skipped.contains { $0.hasSuffix("broken.jpg") } && skipped.contains { $0.hasSuffix("text.jpg") }, "\(skipped)")
        let gifReason = (metrics?["skipped"] as? [[String: Any]])?.first { ($0["path"] as? String)?.hasSuffix("picture.gif") == true }
        XCTAssertTrue((gifReason?["reason"] as? String)?.contains("a GIF image") == true, "\(String(describing: gifReason))")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("Skipped images") && report.contains("broken.jpg"))
    }

    /// `--fine-tune` killed after a finished epoch: `--resume` continues after it (not from the start) and ends
    /// with the same network as a run that was never stopped.
    func testKilledFineTuneResumesAfterItsLastEpoch() throws {
        let weights = try TestPaths.liteWeights
        let (data, _) = try TestPaths.subset(perClass: 32, testPerClass: 8, unknown: 0)
        let root = try TestPaths.temporaryDirectory("killed-finetune")
        func args(_ out: URL) -> [String] {
            ["run", "--data", data.path, "--out", out.path, "--epochs", "1", "--augment-views", "1", "--no-explain",
             "--shift-copies", "0", "--backbone", "efficientnet-lite0", "--weights", weights.path, "--fine-tune",
             "--unfreeze", "1", "--fine-tune-epochs", "4"]
        }
        let whole = root.appendingPathComponent("whole"), killed = root.appendingPathComponent("killed")
        let reference = try TestPaths.run(args(whole))
        XCTAssertEqual(reference.status, 0, reference.err)

        try runKilled(args(killed), once: killed.appendingPathComponent("checkpoints/fine-tune.safetensors"))

        let resumed = try TestPaths.run(args(killed) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let said = resumed.err.range(of: #"fine-tuning resumes after epoch [123] of 4"#, options: .regularExpression)
        XCTAssertNotNil(said, "the finished epochs are not trained again: \(resumed.err)")
        let metrics = try JSONSerialization.jsonObject(
            with: Data(contentsOf: killed.appendingPathComponent("metrics.json"))) as? [String: Any]
        let listed = (metrics?["training"] as? [String: Any])?["checkpoints"] as? [String] ?? []
        XCTAssertTrue(listed.contains("fine-tune.safetensors"),
                      "metrics.json lists the fine-tuning checkpoint: \(listed)")
        let a = try ModelFile.load(whole.appendingPathComponent("model.safetensors"))
        let b = try ModelFile.load(killed.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(a.backboneWeights.keys), Set(b.backboneWeights.keys))
        var worst: Float = 0
        for (key, tensor) in a.backboneWeights {
            for (x, y) in zip(tensor.data, b.backboneWeights[key]?.data ?? []) { worst = max(worst, abs(x - y)) }
        }
        for (x, y) in zip(a.head.weight.data + a.head.bias.data, b.head.weight.data + b.head.bias.data) {
            worst = max(worst, abs(x - y))
        }
        XCTAssertLessThan(worst, 1e-5, "resumed weights differ from the uninterrupted run's by \(worst)")
        XCTAssertNotEqual(a.backboneWeights["_conv_head.weight"]?.data,
                          try PyTorchCheckpoint.load(weights)["_conv_head.weight"]?.data, "fine-tuning changed it")

        // Once more on the finished run: nothing is trained again, and the tuned network's extractions come back
        // from its own part of the cache (keyed by its weights), not from the frozen network's entries.
        let again = try TestPaths.run(args(killed) + ["--resume"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.err.contains("fine-tuning resumes after epoch 4 of 4"), again.err)
        let cached = again.err.range(of: #"features \(train\): \d+ images from the cache of an earlier attempt"#,
                                     options: .regularExpression)
        XCTAssertNotNil(cached, again.err)
        let tunedTrain = killed.appendingPathComponent("cache/tuned/train.safetensors").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: tunedTrain))
        let c = try ModelFile.load(killed.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(c.head.weight.data, b.head.weight.data)

        // Other fine-tuning options: the checkpoint is not used, and the other network's features are not either.
        let changed = try TestPaths.run(args(killed) + ["--resume", "--fine-tune-lr", "0.002"])
        XCTAssertEqual(changed.status, 0, changed.err)
        XCTAssertTrue(changed.err.contains("fine-tuning starts over") && changed.err.contains("other fine-tuning options"),
                      changed.err)
        let reused = changed.err.range(of: #"features \(train\): \d+ images from the cache"#, options: .regularExpression)
        XCTAssertNil(reused, "features of the earlier fine-tuned network must not be reused: \(changed.err)")
    }

    /// Starts `discern` with `args` and kills it (SIGKILL) as soon as `file` exists; fails if it ended before.
    private func runKilled(_ args: [String], once file: URL) throws {
        let p = Process()
        p.executableURL = try TestPaths.binary
        p.arguments = args
        p.standardError = FileHandle.nullDevice; p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: file.path) && p.isRunning && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(p.isRunning, "the run ended before it could be interrupted")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    func testUnwritableOutputIsRefusedUpFront() throws {
        let r = try TestPaths.run(["train", "--data", "/nonexistent-data", "--out", "/proc/discern-out"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("/proc/discern-out") && r.err.contains("cannot write"), r.err)
    }
}
