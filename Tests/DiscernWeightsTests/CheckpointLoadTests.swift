import DiscernTestSupport
import XCTest
import Foundation
import DiscernEngine
@testable import DiscernWeights

/// Fixtures from tools/make_weights_fixtures.py (torch.save) against values torch wrote independently.
enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/weights")
    static func url(_ name: String) -> URL { dir.appendingPathComponent(name) }
}

final class CheckpointLoadTests: XCTestCase {
    /// torch's values, with the true shapes from the metadata (the writer stores 0-d as [1]).
    func expected() throws -> [String: Tensor] {
        let f = try SafeTensors.read(Fixtures.url("small_expected.safetensors"))
        let json = try XCTUnwrap(f.metadata["shapes"]).data(using: .utf8)!
        let shapes = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: [Int]])
        XCTAssertEqual(Set(shapes.keys), Set(f.tensors.keys))
        return f.tensors.mapValues { $0 }.reduce(into: [:]) { out, kv in
            out[kv.key] = Tensor(shape: shapes[kv.key] ?? kv.value.shape, data: kv.value.data)
        }
    }

    func assertSame(
        _ got: [String: Tensor], _ want: [String: Tensor], prefix: String = "", file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(Set(got.keys), Set(want.keys.map { prefix + $0 }), file: file, line: line)
        for (k, w) in want {
            guard let g = got[prefix + k] else { continue }
            XCTAssertEqual(g.shape, w.shape, "shape of \(k)", file: file, line: line)
            XCTAssertEqual(g.data, w.data, "values of \(k)", file: file, line: line)
        }
    }

    func testZipFormatMatchesTorch() throws {
        let want = try expected()
        XCTAssertEqual(want.count, 16)
        assertSame(try PyTorchCheckpoint.load(Fixtures.url("small_zip.pth")), want)
    }

    func testLegacyFormatMatchesTorch() throws {
        assertSame(try PyTorchCheckpoint.load(Fixtures.url("small_legacy.pth")), try expected())
    }

    func testNonContiguousViewsAndDTypes() throws {
        // Spot checks with shapes and values known from the construction, beyond the dictionary comparison.
        for file in ["small_zip.pth", "small_legacy.pth"] {
            let t = try PyTorchCheckpoint.load(Fixtures.url(file))
            XCTAssertEqual(t["fc.weight"]?.shape, [6, 5], file)
            XCTAssertEqual(t["fc.bias"]?.shape, [6], file)
            XCTAssertEqual(t["block.view"]?.shape, [2, 2, 3], file)
            XCTAssertEqual(t["long"]?.data, [0, -3, 1_048_576, 12345, 7], file)
            XCTAssertEqual(t["int32"]?.data, [1, -2, 3, 4], file)
            XCTAssertEqual(t["uint8"]?.data, [0, 255, 17], file)
            XCTAssertEqual(t["bool"]?.data, [1, 0, 1], file)
            XCTAssertEqual(t["bn.num_batches_tracked"]?.shape, [], file)
            XCTAssertEqual(t["bn.num_batches_tracked"]?.data, [42], file)
        }
    }

    func testNestedStateDictWithModulePrefix() throws {
        let want = try expected()
        let got = try PyTorchCheckpoint.load(Fixtures.url("nested_module_zip.pth"))
        assertSame(got, want, prefix: "module.")
        // WeightStore strips DataParallel's prefix and drops num_batches_tracked.
        let store = WeightStore(got)
        XCTAssertFalse(store.contains("bn.num_batches_tracked"))
        XCTAssertEqual(try store.take("conv.weight", shape: [4, 3, 3, 3]).data, want["conv.weight"]!.data)
    }

    func testNestedUnderModelKeyLegacy() throws {
        assertSame(try PyTorchCheckpoint.load(Fixtures.url("nested_model_legacy.pth")), try expected())
    }

    func testWeightFileDispatchesByContent() throws {
        let want = try expected()
        for name in ["small_zip.pth", "small_legacy.pth", "small_expected.safetensors"] {
            // Copy under a misleading extension: the content decides.
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("discern-\(UUID().uuidString).bin")
            try FileManager.default.copyItem(at: Fixtures.url(name), to: tmp)
            defer { try? FileManager.default.removeItem(at: tmp) }
            var got = try WeightFile.load(tmp)
            if name.hasSuffix(".safetensors") {
                got["bn.num_batches_tracked"] = got["bn.num_batches_tracked"]?.reshaped([])
            }
            assertSame(got, want)
        }
    }

    func testUnknownAndEmptyFilesAreRefusedClearly() throws {
        XCTAssertThrowsError(try WeightFile.decode(Data(), name: "empty.pth")) { e in
            XCTAssertEqual("\(e)", "empty.pth: not a valid weight file: the file is empty")
        }
        XCTAssertThrowsError(try WeightFile.decode(Data("hello world, not weights".utf8), name: "x.bin")) { e in
            XCTAssertTrue("\(e)".hasPrefix("x.bin: not a valid weight file: unknown format"), "\(e)")
        }
        XCTAssertThrowsError(try WeightFile.load(URL(fileURLWithPath: "/nonexistent/w.pth"))) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/w.pth"), "\(e)")
        }
        // Truncated checkpoints fail with an error, never a crash.
        let zip = try Data(contentsOf: Fixtures.url("small_zip.pth"))
        let legacy = try Data(contentsOf: Fixtures.url("small_legacy.pth"))
        for cut in [10, 100, 1000, zip.count - 30] {
            XCTAssertThrowsError(try WeightFile.decode(zip.prefix(cut), name: "cut.pth"))
        }
        for cut in [5, 60, 500, legacy.count - 3] {
            XCTAssertThrowsError(try WeightFile.decode(legacy.prefix(cut), name: "cut.pth"))
        }
    }

    /// The real EfficientNet-Lite0 weights (legacy format).
    func testRealLite0LegacyCheckpoint() throws {
        let url = try TestEnvironment.lite0Weights()
        let t = try PyTorchCheckpoint.load(url)
        XCTAssertEqual(t.count, 296)
        // torch counts 49 num_batches_tracked buffers in this file; WeightStore drops them.
        XCTAssertEqual(t.keys.filter { $0.hasSuffix("num_batches_tracked") }.count, 49)
        XCTAssertEqual(WeightStore(t).keys.count, 247)
        XCTAssertEqual(t["_conv_stem.weight"]?.shape, [32, 3, 3, 3])
        XCTAssertEqual(t["_blocks.15._project_conv.weight"]?.shape, [320, 1152, 1, 1])
        XCTAssertEqual(t["_blocks.0._depthwise_conv.weight"]?.shape, [32, 1, 3, 3])
        XCTAssertEqual(t["_conv_head.weight"]?.shape, [1280, 320, 1, 1])
        XCTAssertEqual(t["_fc.weight"]?.shape, [1000, 1280])
        XCTAssertEqual(t["_fc.bias"]?.shape, [1000])
        // BatchNorm variances of a trained network are positive and finite.
        let v = try XCTUnwrap(t["_bn1.running_var"])
        XCTAssertEqual(v.shape, [1280])
        XCTAssertTrue(v.data.allSatisfy { $0 > 0 && $0.isFinite })

        // Values against torch.load of the same file (tools/make_weights_fixtures.py).
        let ref = try SafeTensors.read(Fixtures.url("lite0_reference.safetensors"))
        for (k, r) in ref.tensors where k != "sums.f64" {
            XCTAssertEqual(t[k]?.data, r.data, k)
        }
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(ref.metadata["keys"]!.utf8)) as? [String])
        let sums = try XCTUnwrap(ref.tensors["sums.f64"]).data
        XCTAssertEqual(keys.count, 296)
        for (k, want) in zip(keys, sums) {
            let got = t[k]?.data.reduce(0.0) { $0 + Double($1) } ?? .nan
            XCTAssertEqual(got, Double(want), accuracy: 1e-5 * max(1, abs(Double(want))), k)
        }
    }
}
