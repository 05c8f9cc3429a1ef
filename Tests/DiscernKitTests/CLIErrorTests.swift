import Foundation
import XCTest

/// Every user mistake gives one clear line naming the problem and a non-zero exit, never a stack trace.
final class CLIErrorTests: XCTestCase {
    func assertOneLineError(_ args: [String], mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try TestPaths.run(args)
        XCTAssertNotEqual(r.status, 0, "exit status for \(args)", file: file, line: line)
        let errLines = r.err.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("Usage") && !$0.hasPrefix("  ") && !$0.hasPrefix("See ") }
        XCTAssertFalse(r.err.contains("Fatal error") || r.err.contains("Stack dump") || r.err.contains("backtrace"),
                       "crash for \(args): \(r.err)", file: file, line: line)
        let text = errLines.joined(separator: "\n")
        for m in mentions { XCTAssertTrue(text.contains(m), "\(args): '\(m)' not in: \(text)", file: file, line: line) }
    }

    /// A wrong choice fails while the command line is parsed: exit 64 with one error line naming every valid value,
    /// before any image is read or any file written (the study would otherwise log its classes first).
    func testWrongChoicesFailBeforeAnyWork() throws {
        let data = try TestPaths.datasets.appendingPathComponent("cats-and-dogs")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("discern-choices-\(UUID().uuidString)")
        let methods = ["gradcam", "gradcam++", "hirescam", "xgradcam", "layercam", "eigencam", "scorecam"]
        let featureScores = ["mahalanobis", "knn", "vim", "react", "scale", "ash-s"]
        let logitScores = ["density", "density-seed", "class-density", "joint-density", "msp", "maxlogit", "energy",
                           "gen"]
        let study = ["--data", data.path, "--out", out.path]
        let cases: [(arguments: [String], wrong: String, choices: [String])] = [
            (["run", "--cam-method", "bogus"] + study, "bogus", methods),
            (["run", "--score", "bogus"] + study, "bogus", featureScores + logitScores),
            (["train", "--unknown-score", "msp"] + study, "msp", featureScores),
            (["run", "--unsure-score", "knn"] + study, "knn", logitScores),
            (["explain", "--model", "/nonexistent/model.safetensors", "--method", "bogus", "--out", out.path, "x.jpg"],
             "bogus", methods),
            (["predict", "--model", "/nonexistent/model.safetensors", "--score", "bogus", "x.jpg"], "bogus",
             featureScores + logitScores),
        ]
        for (arguments, wrong, choices) in cases {
            let result = try TestPaths.run(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): a usage error")
            let errors = result.err.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            XCTAssertEqual(errors.count, 1, "\(arguments): one error line in \(result.err)")
            let line = String(errors.first ?? "")
            XCTAssertTrue(line.contains(wrong), "\(arguments): \(line)")
            for choice in choices { XCTAssertTrue(line.contains(choice), "\(arguments): \(choice) not in \(line)") }
            XCTAssertFalse(result.err.contains("classes ("), "\(arguments): images were read: \(result.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(arguments) wrote \(out.path)")
        }
    }

    func testMissingModelFile() throws {
        try assertOneLineError(["predict", "--model", "/nonexistent/model.safetensors", "x.jpg"], mentions: ["/nonexistent/model.safetensors"])
    }

    func testWrongBackboneName() throws {
        try assertOneLineError(["train", "--data", "/tmp", "--backbone", "resnet51"], mentions: ["resnet51"])
    }

    func testImageSizeOutOfRange() throws {
        try assertOneLineError(["train", "--data", "/tmp", "--image-size", "8"], mentions: ["--image-size", "8"])
    }

    func testMissingDataFolder() throws {
        try assertOneLineError(["run", "--data", "/nonexistent/data", "--out", NSTemporaryDirectory() + "/discern-x"], mentions: ["/nonexistent/data"])
    }

    func testOneClassFolder() throws {
        let ds = try TestPaths.datasets
        let root = try TestPaths.temporaryDirectory("oneclass")
        let cats = root.appendingPathComponent("training_set/cats")
        try FileManager.default.createDirectory(at: cats, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: cats.appendingPathComponent("cat.1.jpg"),
                                                   withDestinationURL: ds.appendingPathComponent("cats-and-dogs/training_set/cats/cat.1.jpg"))
        try assertOneLineError(["train", "--data", root.path, "--out", root.appendingPathComponent("out").path], mentions: ["two class"])
    }

    /// A class whose files are all unreadable (here a GIF) stops the run before any work, naming the folder and why.
    func testClassWithoutReadableImages() throws {
        let ds = try TestPaths.datasets
        let root = try TestPaths.temporaryDirectory("unreadable-class")
        let cats = root.appendingPathComponent("training_set/cats"), dogs = root.appendingPathComponent("training_set/dogs")
        for folder in [cats, dogs] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: TestPaths.repo.appendingPathComponent("Tests/Fixtures/vision/other/picture.gif").path,
                                         toPath: cats.appendingPathComponent("cat.gif").path)
        try FileManager.default.createSymbolicLink(at: dogs.appendingPathComponent("dog.1.jpg"),
                                                   withDestinationURL: ds.appendingPathComponent("cats-and-dogs/training_set/dogs/dog.1.jpg"))
        let out = root.appendingPathComponent("out")
        try assertOneLineError(["train", "--data", root.path, "--out", out.path],
                               mentions: [cats.path + ": holds no readable training image", "a GIF image"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path))
    }

    func testWeightsForAnotherBackbone() throws {
        let w = try TestPaths.liteWeights
        try assertOneLineError(["classify", "--backbone", "resnet18", "--weights", w.path, "x.jpg"], mentions: [w.path, "resnet18"])
    }

    func testModelFileFromAnotherVersion() throws {
        // A safetensors file whose Discern metadata claims a future version.
        let dir = try TestPaths.temporaryDirectory("version")
        let header = #"{"__metadata__":{"discern":"{\"format\":\"discern-model\",\"version\":99}"}}"#
        var data = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        let f = dir.appendingPathComponent("future.safetensors")
        try data.write(to: f)
        try assertOneLineError(["predict", "--model", f.path, "x.jpg"], mentions: [f.path])
    }

    func testNotAModelFile() throws {
        let dir = try TestPaths.temporaryDirectory("notmodel")
        let f = dir.appendingPathComponent("text.safetensors")
        try Data("hello, not a model".utf8).write(to: f)
        try assertOneLineError(["predict", "--model", f.path, "x.jpg"], mentions: [f.path])
    }
}
