import DiscernEngine
import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// ImageFolder on a Kaggle-style nested tree with junk and bad files, and the batch loader's contents,
/// shuffling and skip reporting. Pixel values are checked against PIL's convert('RGB') fixtures.
final class DatasetLoaderTests: XCTestCase {
    let cats = ["gray.jpg", "cmyk.jpg", "palette_trns.png", "rgba.png", "onebit.png"]
    let dogs = ["rgb420_odd.jpg", "rgb444_progressive.jpg", "palette4bit.png", "la.png", "gray.png"]
    let bad = ["empty.jpg", "text.jpg", "truncated.jpg", "bad_crc.png", "huge.png", "truncated_scan.jpg"]
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("discern-vision-\(UUID().uuidString)")
        let top = root.appendingPathComponent("training_set/training_set")
        let fm = FileManager.default
        for d in ["cats", "dogs/nested"] {
            try fm.createDirectory(at: top.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        for f in cats {
            try fm.copyItem(
                atPath: Fixtures.path("synthetic/\(f)"), toPath: top.appendingPathComponent("cats/\(f)").path)
        }
        for f in dogs {
            try fm.copyItem(
                atPath: Fixtures.path("synthetic/\(f)"), toPath: top.appendingPathComponent("dogs/\(f)").path)
        }
        try fm.copyItem(
            atPath: Fixtures.path("synthetic/interlaced.png"),
            toPath: top.appendingPathComponent("dogs/nested/interlaced.png").path)
        for f in bad {
            try fm.copyItem(atPath: Fixtures.path("bad/\(f)"), toPath: top.appendingPathComponent("cats/\(f)").path)
        }
        for junk in ["cats/.DS_Store", "cats/_DS_Store", "dogs/notes.txt", ".DS_Store"] {
            try Data("junk".utf8).write(to: top.appendingPathComponent(junk))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testImageFolderUnwrapsNestingSkipsJunkAndReportsBadFiles() throws {
        let ds = try ImageFolder(root: root.path)
        XCTAssertEqual(ds.classes, ["cats", "dogs"])
        XCTAssertTrue(ds.root.hasSuffix("training_set/training_set"), ds.root)
        let names = ds.samples.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        // Header check catches all bad files but the one truncated inside its scan data (found when decoding).
        XCTAssertEqual(names, cats.sorted() + ["truncated_scan.jpg"] + (dogs + ["interlaced.png"]).sorted { a, b in
            (a == "interlaced.png" ? "nested/" + a : a) < (b == "interlaced.png" ? "nested/" + b : b) })
        XCTAssertEqual(ds.samples.map(\.label), Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6))
        XCTAssertEqual(Set(ds.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }), Set(bad.dropLast()))
        for s in ds.skipped {
            XCTAssertFalse(s.description.contains("\n"))
            XCTAssertTrue(s.reason.contains(s.path), s.description)
            print(s)
        }
        let full = try ImageFolder(root: root.path, check: .full)
        XCTAssertEqual(Set(full.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }), Set(bad))
        XCTAssertThrowsError(try ImageFolder(root: root.appendingPathComponent("missing").path)) { e in
            XCTAssertTrue("\(e)".contains("missing"))
        }
    }

    func testLoaderBatchesMatchPILPixelsAndReshuffle() throws {
        let ds = try ImageFolder(root: root.path)
        let ref = try Fixtures.load("synthetic.safetensors").tensors
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let loader = try BatchLoader(samples: ds.samples, transform: Compose([]),
                                     options: .init(batchSize: 4, seed: 3, prefetch: 2, mean: mean, std: std))
        var orders: [[String]] = []
        for epoch in 0 ..< 2 {
            var seen: [String] = []
            for batch in loader.epoch(epoch) {
                XCTAssertEqual(batch.images.shape, [batch.paths.count, 3, 37, 53])
                XCTAssertEqual(batch.labels.count, batch.paths.count)
                for (k, path) in batch.paths.enumerated() {
                    let name = URL(fileURLWithPath: path).lastPathComponent
                    XCTAssertEqual(batch.labels[k], path.contains("/cats/") ? 0 : 1)
                    let want = ref[name]!.data   // PIL HWC uint8
                    var maxErr: Float = 0
                    for c in 0 ..< 3 { for i in 0 ..< 37 * 53 {
                        let v = (Float(UInt8(want[i * 3 + c])) / 255 - mean[c]) / std[c]
                        maxErr = max(maxErr, abs(batch.images.data[(k * 3 + c) * 37 * 53 + i] - v))
                    } }
                    XCTAssertLessThanOrEqual(maxErr, 1e-6, "\(name): the decode is bit-exact, so only float rounding")
                }
                seen += batch.paths
            }
            XCTAssertEqual(seen.count, 11, "12 samples minus the truncated one")
            XCTAssertEqual(Set(seen).count, 11)
            orders.append(seen)
            XCTAssertGreaterThan(loader.imagesPerSecond, 0)
        }
        XCTAssertNotEqual(orders[0], orders[1], "reshuffled per epoch")
        XCTAssertEqual(loader.skipped.count, 1, "bad file reported once over two epochs")
        XCTAssertTrue(loader.skipped.first?.path.hasSuffix("truncated_scan.jpg") ?? false)
        XCTAssertEqual(loader.order(epoch: 5), loader.order(epoch: 5))
        let again = try BatchLoader(samples: ds.samples, transform: Compose([]), options: .init(batchSize: 4, seed: 3))
        XCTAssertEqual(again.order(epoch: 1), loader.order(epoch: 1))
        XCTAssertNil(loader.failure)
    }

    func testMixedSizesEndTheEpochWithAMessage() throws {
        let ds = try ImageFolder(root: root.path, check: .full)
        var paths = ds.samples
        paths.append(.init(path: Fixtures.path("synthetic/one_pixel.png"), label: 0))
        let loader = try BatchLoader(
            samples: paths, transform: Compose([]), options: .init(batchSize: 64, shuffle: false))
        XCTAssertEqual(Array(loader.epoch(0)).count, 0)
        XCTAssertTrue(loader.failure?.contains("differ in size") ?? false, loader.failure ?? "nil")
        XCTAssertThrowsError(try BatchLoader(samples: paths, transform: Compose([]), options: .init(batchSize: 0)))
    }
}
