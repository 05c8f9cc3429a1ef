import Foundation
import XCTest

/// `discern features` as an Indexed Job: the model trained from 3 feature shards is the one-process model,
/// every tensor bit for bit and the same thresholds and verdict rule.
final class FeatureShardTests: XCTestCase {
    func testModelFromThreeFeatureShardsEqualsOneProcessModel() throws {
        let weights = try TestPaths.liteWeights
        let (data, _) = try TestPaths.subset(perClass: 16, testPerClass: 1, unknown: 0)
        // A broken training image: each process skips it the same way.
        try Data("not a jpeg".utf8).write(to: data.appendingPathComponent("training_set/cats/broken.jpg"))
        let dir = try TestPaths.temporaryDirectory("feature-shards")
        // Batches of 4 over ~29 training images: 8 batches, so every shard holds several, the last one partial.
        let options = ["--data", data.path, "--weights", weights.path, "--epochs", "3", "--batch-size", "4",
                       "--augment-views", "2", "--shift-copies", "1", "--seed", "7"]
        let one = dir.appendingPathComponent("one")
        let whole = try TestPaths.run(["train"] + options + ["--out", one.path])
        XCTAssertEqual(whole.status, 0, whole.err)
        // --degrade's default makes one of the two views a degraded one; the verdict's references are the training
        // images and the plain view only.
        XCTAssertTrue(whole.err.contains("2 cached augmented views per image (1 with a photo degradation)"), whole.err)
        XCTAssertTrue(whole.err.contains("augmented view 2/2, degraded"), whole.err)
        XCTAssertTrue(whole.err.contains("(the training images and 1 augmented views of each)"), whole.err)

        var files: [String] = [], reported = 0
        for i in 0 ..< 3 {
            let file = dir.appendingPathComponent("features-\(i).safetensors").path
            files.append(file)
            let r = try TestPaths.run(["features"] + options + ["--shard", "\(i)/3", "--out", file])
            XCTAssertEqual(r.status, 0, r.err)
            if r.err.contains("broken.jpg") { reported += 1 }
        }
        XCTAssertEqual(reported, 3, "each shard reads the same folder and skips the broken image the same way")
        let sharded = dir.appendingPathComponent("sharded")
        // The files in another order than their shard numbers: the join goes by the numbers stored in them.
        let trained = try TestPaths.run(["train"] + options + ["--out", sharded.path, "--features"] + files.reversed())
        XCTAssertEqual(trained.status, 0, trained.err)
        XCTAssertTrue(trained.err.contains("from the --features files"), trained.err)
        XCTAssertFalse(trained.err.contains("augmented view 1/2 ("), "train extracted instead of using the files")
        XCTAssertTrue(trained.err.contains("augmented view 2/2, degraded: 28 images from the --features files"),
                      trained.err)

        let a = try ModelBytes(one.appendingPathComponent("model.safetensors"))
        let b = try ModelBytes(sharded.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        XCTAssertTrue(a.tensors.keys.contains("head.weight") && a.tensors.keys.contains { $0.hasPrefix("ood.") })
        for (name, bytes) in a.tensors { XCTAssertEqual(bytes, b.tensors[name], "tensor \(name) differs") }
        XCTAssertEqual(a.metadata, b.metadata, "metadata (thresholds, rule, score choice, training settings)")
        XCTAssertNotNil(a.metadata["thresholds"]); XCTAssertNotNil(a.metadata["rule"])

        // A shard missing, or made with another seed, is refused with what to do.
        let missing = try TestPaths.run(["train"] + options + ["--out", dir.appendingPathComponent("m").path,
                                                                "--features"] + files.dropLast())
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("shard(s) 2 missing"), missing.err)
        let otherSeed = options.map { $0 == "7" ? "8" : $0 }
        let wrong = try TestPaths.run(["train"] + otherSeed + ["--out", dir.appendingPathComponent("w").path,
                                                               "--features"] + files)
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.err.contains("extracted with other options"), wrong.err)

        // A shard written by an older version (format 1: no decoded image sizes) is refused by name.
        let older = dir.appendingPathComponent("older-0.safetensors")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: files[0]))
        let format = Data("discern-features-2".utf8)
        let at = try XCTUnwrap(bytes.range(of: format), "the shard names its format")
        var olderBytes = bytes
        olderBytes.replaceSubrange(at, with: Data("discern-features-1".utf8))
        try olderBytes.write(to: older)
        let stale = try TestPaths.run(["train"] + options + ["--out", dir.appendingPathComponent("o").path,
                                                             "--features", older.path] + files.dropFirst())
        XCTAssertNotEqual(stale.status, 0)
        XCTAssertTrue(stale.err.contains("\(older.path): was written by another version of discern features"),
                      stale.err)
    }
}

/// A safetensors file read straight from its bytes (8-byte header length, JSON header, data), independently of the
/// code under test: each tensor's raw bytes, and the model metadata without its creation time.
struct ModelBytes {
    var tensors: [String: Data] = [:]
    var metadata: NSDictionary

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data[8 ..< 8 + length]) as? [String: Any])
        let body = 8 + length
        for (name, value) in header where name != "__metadata__" {
            let entry = try XCTUnwrap(value as? [String: Any]), offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
            tensors[name] = data[body + offsets[0] ..< body + offsets[1]]
        }
        let meta = try XCTUnwrap((header["__metadata__"] as? [String: String])?["discern"])
        var model = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(meta.utf8)) as? [String: Any])
        var training = try XCTUnwrap(model["training"] as? [String: Any])
        training["createdAt"] = nil
        model["training"] = training
        metadata = NSDictionary(dictionary: model)
    }
}
