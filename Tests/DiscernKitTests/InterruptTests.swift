import Foundation
import XCTest

/// A run killed in the middle loses nothing finished: `--resume` picks up the cached extractions and completes;
/// an output folder that cannot be written is refused before any work starts.
final class InterruptTests: XCTestCase {
    func testKilledRunResumes() throws {
        let weights = try TestPaths.liteWeights
        let bin = try TestPaths.binary
        let (data, _) = try TestPaths.subset(perClass: 32, testPerClass: 8, unknown: 0)
        // A broken image among them: skipped with one line, listed in the report, the run completes.
        try Data().write(to: data.appendingPathComponent("training_set/cats/broken.jpg"))
        try Data("not an image".utf8).write(to: data.appendingPathComponent("test_set/dogs/text.jpg"))
        let out = try TestPaths.temporaryDirectory("killed").appendingPathComponent("run")
        let args = ["run", "--data", data.path, "--out", out.path, "--epochs", "2", "--augment-views", "3", "--no-explain",
                    "--weights", weights.path]
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        p.standardError = FileHandle.nullDevice; p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Kill it as soon as the first augmented view is safely on disk.
        let first = out.appendingPathComponent("cache/train-view0.safetensors").path
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: first) && p.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(p.isRunning, "the run ended before it could be interrupted")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
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
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("Skipped images") && report.contains("broken.jpg"))
    }

    func testUnwritableOutputIsRefusedUpFront() throws {
        let r = try TestPaths.run(["train", "--data", "/nonexistent-data", "--out", "/proc/discern-out"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("/proc/discern-out") && r.err.contains("cannot write"), r.err)
    }
}
