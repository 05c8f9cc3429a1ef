import Foundation
import XCTest
import DiscernTestSupport

/// `discern predict --jsonl` and `discern features` as the shards of a Kubernetes Indexed Job: N shards merged give
/// exactly what one process gives; a shard killed mid-way and resumed neither repeats nor loses a line.
final class IndexedJobTests: XCTestCase {
    /// A small trained model and ~60 images to score (test photos, flowers and one broken file), made once.
    struct Fixture {
        var model: String
        var images: [String]
        var list: URL
        var folder: URL
        var broken: String
    }

    nonisolated(unsafe) static var cached: Fixture?

    static func fixture() throws -> Fixture {
        if let cached { return cached }
        let weights = try TestPaths.liteWeights
        let (data, unknown) = try TestPaths.subset(perClass: 20, testPerClass: 24, unknown: 12)
        let out = try TestPaths.temporaryDirectory("jobs-model")
        let trained = try TestPaths.run(["train", "--data", data.path, "--out", out.path, "--force", "--epochs", "2",
                                         "--augment-views", "1", "--shift-copies", "1", "--weights", weights.path])
        guard trained.status == 0 else { throw TestFailure("train failed: \(trained.err)") }
        // A folder to score: the test photos in class sub-folders, the flowers and a broken image.
        let folder = data.appendingPathComponent("test_set")
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("flowers"), withDestinationURL: unknown)
        let broken = folder.appendingPathComponent("dogs/broken.jpg").path
        try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: broken))
        var images: [String] = []
        for sub in ["cats", "dogs", "flowers"] {
            let dir = folder.appendingPathComponent(sub)
            images += try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { dir.path + "/" + $0 }
        }
        // The list is in another order than the folder's (dogs, flowers, cats interleaved), as a real list would be.
        images = images.enumerated().sorted { ($0.offset % 7, $0.offset) < ($1.offset % 7, $1.offset) }.map(\.element)
        let list = out.appendingPathComponent("paths.txt")
        try Data(images.map { $0 + "\n" }.joined().utf8).write(to: list)
        cached = Fixture(model: out.appendingPathComponent("model.safetensors").path, images: images, list: list,
                         folder: folder, broken: broken)
        return cached!
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// The JSON objects of a JSONL file, in file order.
    func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not JSON: \($0)")
        }
    }

    func predict(_ f: Fixture, _ extra: [String], batchSize: Int = 8, environment: [String: String] = [:]) throws
        -> (status: Int32, err: String)
    {
        let r = try run(["predict", "--model", f.model, "--batch-size", "\(batchSize)"] + extra, environment: environment)
        return (r.status, r.err)
    }

    func run(_ args: [String], environment: [String: String] = [:], input: Data? = nil) throws
        -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = try TestPaths.binary
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["JOB_COMPLETION_INDEX"] = nil; env["JOB_COMPLETIONS"] = nil
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let o = Pipe(), e = Pipe(), i = Pipe()
        p.standardOutput = o; p.standardError = e; p.standardInput = i
        try p.run()
        if let input { i.fileHandleForWriting.write(input) }
        try i.fileHandleForWriting.close()
        let od = o.fileHandleForReading.readDataToEndOfFile(), ed = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
    }

    /// Labels, probabilities, scores and verdicts of two runs must be the same, line for line.
    func assertSame(_ a: [[String: Any]], _ b: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "line count", file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(NSDictionary(dictionary: x), NSDictionary(dictionary: y),
                           "index \(x["index"] ?? "?") differs", file: file, line: line)
        }
    }

    func testThreeShardsMergedEqualOneProcess() throws {
        let f = try Self.fixture()
        let dir = try TestPaths.temporaryDirectory("shards")
        let one = dir.appendingPathComponent("one.jsonl")
        let whole = try predict(f, ["--paths-from", f.list.path, "--jsonl", one.path])
        XCTAssertEqual(whole.status, 0, whole.err)
        // The broken image: one line on stderr naming it, an "error" line in the JSONL; the rest is scored.
        XCTAssertEqual(whole.err.split(separator: "\n").filter { $0.contains(f.broken) }.count, 1, whole.err)
        let reference = try lines(one)
        XCTAssertEqual(reference.map { $0["index"] as? Int }, Array(0 ..< f.images.count))
        XCTAssertEqual(reference.map { $0["path"] as? String }, f.images)
        let failed = reference.filter { $0["error"] != nil }
        XCTAssertEqual(failed.map { $0["path"] as? String }, [f.broken])

        // The batched stream gives the labels and verdicts of the plain `predict --json` of the same images.
        let good = f.images.filter { $0 != f.broken }
        let plain = try run(["predict", "--model", f.model, "--json"] + good)
        XCTAssertEqual(plain.status, 0, plain.err)
        let answers = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(plain.out.utf8)) as? [[String: Any]])
        let scored = reference.filter { $0["error"] == nil }
        XCTAssertEqual(answers.map { $0["label"] as? String }, scored.map { $0["label"] as? String })
        XCTAssertEqual(answers.map { $0["verdict"] as? String }, scored.map { $0["verdict"] as? String })
        for (a, s) in zip(answers, scored) {
            let pa = try XCTUnwrap(a["scores"] as? [String: Double]), ps = try XCTUnwrap(s["scores"] as? [String: Double])
            for (k, v) in pa { XCTAssertEqual(v, ps[k] ?? .nan, accuracy: 1e-5, "\(s["path"]!) p(\(k))") }
        }
        XCTAssertGreaterThan(Set(scored.compactMap { $0["label"] as? String }).count, 1, "a model that says one label")

        // Three shards; the last takes its share from the Indexed Job's environment, as a pod would. They batch
        // differently from the one process (5 images, not 8): an image's scores must not depend on its batch.
        var shardFiles: [String] = []
        for i in 0 ..< 3 {
            let out = dir.appendingPathComponent("shard-\(i).jsonl").path
            shardFiles.append(out)
            let r = i < 2
                ? try predict(f, ["--paths-from", f.list.path, "--jsonl", out, "--shard", "\(i)/3"], batchSize: 5)
                : try predict(f, ["--paths-from", f.list.path, "--jsonl", out], batchSize: 5,
                              environment: ["JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"])
            XCTAssertEqual(r.status, 0, r.err)
            let shard = try lines(URL(fileURLWithPath: out))
            XCTAssertEqual(shard.map { $0["index"] as? Int }, Array(stride(from: i, to: f.images.count, by: 3)))
        }
        let merged = dir.appendingPathComponent("merged.jsonl")
        let m = try run(["merge", "--out", merged.path, "--expect", "\(f.images.count)"] + shardFiles)
        XCTAssertEqual(m.status, 0, m.err)
        assertSame(try lines(merged), reference)

        // A missing shard or a shard given twice is refused, and nothing is written.
        let partial = dir.appendingPathComponent("partial.jsonl")
        let gap = try run(["merge", "--out", partial.path, "--expect", "\(f.images.count)"] + shardFiles.dropLast())
        XCTAssertNotEqual(gap.status, 0)
        XCTAssertTrue(gap.err.contains("missing indices 2, 5, 8"), gap.err)
        let twice = try run(["merge", "--out", partial.path] + shardFiles + [shardFiles[1]])
        XCTAssertNotEqual(twice.status, 0)
        XCTAssertTrue(twice.err.contains("index 1 is also in"), twice.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path))
    }

    func testKilledShardResumesWithoutRepeatingOrLosingALine() throws {
        let f = try Self.fixture()
        let dir = try TestPaths.temporaryDirectory("resume")
        let one = dir.appendingPathComponent("one.jsonl")
        XCTAssertEqual(try predict(f, ["--paths-from", f.list.path, "--jsonl", one.path]).status, 0)
        let reference = try lines(one)

        let out = dir.appendingPathComponent("killed.jsonl")
        let p = Process()
        p.executableURL = try TestPaths.binary
        p.arguments = ["predict", "--model", f.model, "--batch-size", "2", "--paths-from", f.list.path, "--jsonl", out.path]
        p.standardError = FileHandle.nullDevice; p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        func count() -> Int { ((try? Data(contentsOf: out)) ?? Data()).filter { $0 == UInt8(ascii: "\n") }.count }
        while count() < 10 && p.isRunning && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(p.isRunning, "predict finished before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = try Data(contentsOf: out)
        let kept = before.count > 0 ? try lines(out) : []
        XCTAssertLessThan(kept.count, f.images.count, "the kill came too late to test anything")
        // A kill in the middle of a write leaves a torn last line: it is dropped and that image scored again.
        let torn = Data(#"{"index":"#.utf8)
        let handle = try FileHandle(forWritingTo: out)
        try handle.seekToEnd(); try handle.write(contentsOf: torn); try handle.close()

        let again = try predict(f, ["--paths-from", f.list.path, "--jsonl", out.path])
        XCTAssertNotEqual(again.status, 0, "an existing file without --resume must be refused")
        let resumed = try predict(f, ["--paths-from", f.list.path, "--jsonl", out.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("torn last line"), resumed.err)
        let after = try Data(contentsOf: out)
        XCTAssertEqual(after.prefix(before.count), before, "the lines written before the kill are kept as they were")
        assertSame(try lines(out), reference)
    }

    func testPathsFromStandardInputAndFolders() throws {
        let f = try Self.fixture()
        let dir = try TestPaths.temporaryDirectory("stdin")
        let fromFile = dir.appendingPathComponent("file.jsonl"), fromStdin = dir.appendingPathComponent("stdin.jsonl")
        XCTAssertEqual(try predict(f, ["--paths-from", f.list.path, "--jsonl", fromFile.path, "--shard", "1/2"]).status, 0)
        let r = try run(["predict", "--model", f.model, "--batch-size", "8", "--paths-from", "-", "--jsonl", fromStdin.path,
                         "--shard", "1/2"], input: try Data(contentsOf: f.list))
        XCTAssertEqual(r.status, 0, r.err)
        assertSame(try lines(fromStdin), try lines(fromFile))
        XCTAssertEqual(try lines(fromStdin).count, f.images.count / 2)

        // A folder is searched recursively (the flowers are behind a symbolic link) in sorted path order.
        let fromFolder = dir.appendingPathComponent("folder.jsonl")
        let folder = try predict(f, [f.folder.path, "--jsonl", fromFolder.path])
        XCTAssertEqual(folder.status, 0, folder.err)
        XCTAssertEqual(try lines(fromFolder).compactMap { $0["path"] as? String }, f.images.sorted())

        // An image in a format Discern does not read is listed by the folder scan and reported, not left out.
        let mixed = dir.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: mixed, withIntermediateDirectories: true)
        let photo = try XCTUnwrap(f.images.first { $0.hasSuffix(".jpg") && $0 != f.broken })
        try FileManager.default.copyItem(atPath: photo, toPath: mixed.appendingPathComponent("photo.jpg").path)
        try FileManager.default.copyItem(atPath: TestPaths.repo.appendingPathComponent("Tests/Fixtures/vision/other/picture.webp").path,
                                         toPath: mixed.appendingPathComponent("picture.webp").path)
        let fromMixed = dir.appendingPathComponent("mixed.jsonl")
        let scoredMixed = try predict(f, [mixed.path, "--jsonl", fromMixed.path])
        XCTAssertEqual(scoredMixed.status, 0, scoredMixed.err)
        XCTAssertTrue(scoredMixed.err.contains("picture.webp: a WebP image; Discern reads JPEG and PNG only"), scoredMixed.err)
        let mixedLines = try lines(fromMixed)
        XCTAssertEqual(mixedLines.compactMap { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } },
                       ["photo.jpg", "picture.webp"])
        XCTAssertEqual(mixedLines.map { $0["error"] == nil }, [true, false])
    }

    /// tools/rehearse_indexed_job.py: 3 pods as local processes with the Indexed Job's environment, one of them killed
    /// and restarted, the merge, and the comparison with one process.
    func testRehearsalOfTheIndexedJob() throws {
        let f = try Self.fixture()
        let work = try TestPaths.temporaryDirectory("rehearsal")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestEnvironment.referencePython)
        p.arguments = [TestPaths.repo.appendingPathComponent("tools/rehearse_indexed_job.py").path, "predict",
                       "--binary", try TestPaths.binary.path, "--model", f.model, "--paths", f.list.path,
                       "--shards", "3", "--work", work.path, "--restart", "1", "--batch-size", "2"]
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        let out = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: e.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, out + err)
        XCTAssertTrue(out.contains("pod 1: killed after") && out.contains("identical: \(f.images.count) lines"), out + err)
        let restarted = try lines(work.appendingPathComponent("shard-1.jsonl")).compactMap { $0["index"] as? Int }
        XCTAssertEqual(restarted, Array(stride(from: 1, to: f.images.count, by: 3)), "the restarted pod's shard")
    }
}
