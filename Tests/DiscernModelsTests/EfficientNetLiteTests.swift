import DiscernTestSupport
import DiscernEngine
import DiscernModels
import DiscernWeights
import Foundation
import XCTest

final class EfficientNetLiteTests: XCTestCase {
    /// The real ImageNet weights (TestEnvironment.weightFolders, from scripts/fetch-weights).
    static func weights() throws -> [String: Tensor] {
        try PyTorchCheckpoint.load(try TestEnvironment.lite0Weights())
    }

    /// The fixture's PIL-resized photo, ToTensor + Normalize(127/255, 128/255) as torchvision does.
    func input(_ f: SafeTensors.File, _ norm: Normalization) -> Tensor {
        let hwc = f.tensors["image_hwc"]!
        let h = hwc.shape[0], w = hwc.shape[1]
        var out = [Float](repeating: 0, count: 3 * h * w)
        for c in 0..<3 { for i in 0..<(h * w) {
            out[c * h * w + i] = (hwc.data[i * 3 + c] / 255 - norm.mean[c]) / norm.std[c]
        } }
        return Tensor(shape: [1, 3, h, w], data: out)
    }

    func testLite0RealWeightsMatchPyTorchOnPhotos() throws {
        let b = try Backbone.build(.efficientnetLite0, weights: WeightStore(try Self.weights()))
        XCTAssertEqual(b.featureCount, 1280)
        XCTAssertEqual(b.normalization, .lite)
        let head = try XCTUnwrap(b.imagenetHead)
        let names = ["lite0_cat1", "lite0_cat2", "lite0_dog1", "lite0_dog2"]
        let files = try names.map { try Fixtures.load($0 + ".safetensors") }
        let x = Tensor.concatBatch(files.map { input($0, b.normalization) })
        let session = try InferenceSession(graph: b.graph, batchSize: 4)
        let logits = Fixtures.linear(try session.run(x), head)
        for (i, (name, f)) in zip(names, files).enumerated() {
            let got = logits.item(i)
            Fixtures.assertClose(got, f.tensors["logits"]!, abs: 1e-3, name)
            let top1 = got.data.indices.max { got.data[$0] < got.data[$1] }!
            XCTAssertEqual(top1, Int(f.tensors["top1"]!.data[0]), "\(name) top-1 differs from PyTorch's")
            let range = name.contains("cat") ? 281...285 : 151...268
            XCTAssertTrue(
                range.contains(top1), "\(name): top-1 \(top1) is not a \(name.contains("cat") ? "cat" : "dog") class")
        }
    }

    /// bf16 (AVX512-BF16 CPUs): same top-1 as PyTorch's fp32 on the photos, logits close.
    /// Elsewhere the session must fall back to fp32 and say so, and it says when bf16 is measured slower here.
    func testLite0BF16AgreesWithPyTorchTop1() throws {
        let b = try Backbone.build(.efficientnetLite0, weights: WeightStore(try Self.weights()))
        let session = try InferenceSession(graph: b.graph, batchSize: 4, precision: .bf16)
        guard InferenceSession.bf16Supported else {
            XCTAssertEqual(session.precision, .fp32)
            XCTAssertNotNil(session.notice)
            throw XCTSkip("CPU without bf16: fallback checked")
        }
        XCTAssertEqual(session.precision, .bf16)
        // Having the instructions does not make bf16 faster (Intel without AMX): the session says so when it is not.
        let speed = try XCTUnwrap(BF16Speed.measurement, "a CPU with native bf16 must get a bf16/fp32 timing")
        XCTAssertGreaterThan(speed.fp32Milliseconds, 0)
        XCTAssertGreaterThan(speed.bf16Milliseconds, 0)
        XCTAssertEqual(session.notice != nil, !speed.bf16IsFaster, "notice: \(session.notice ?? "none")")
        let names = ["lite0_cat1", "lite0_cat2", "lite0_dog1", "lite0_dog2"]
        let files = try names.map { try Fixtures.load($0 + ".safetensors") }
        let logits = Fixtures.linear(
            try session.run(Tensor.concatBatch(files.map { input($0, b.normalization) })), b.imagenetHead!)
        for (i, (name, f)) in zip(names, files).enumerated() {
            let got = logits.item(i), ref = f.tensors["logits"]!
            let top1 = got.data.indices.max { got.data[$0] < got.data[$1] }!
            XCTAssertEqual(top1, Int(f.tensors["top1"]!.data[0]), "\(name) bf16 top-1")
            // bf16 keeps 8 mantissa bits: allow a few percent of the logit range.
            Fixtures.assertClose(got, ref, rel: 0.05, "\(name) bf16 logits")
            var diff: Float = 0
            for (x, y) in zip(got.data, ref.data) { diff = max(diff, abs(x - y)) }
            XCTAssertGreaterThan(diff, 0, "bf16 should not be bit-identical to fp32")
        }
    }

    func testLite0KeysAndTFSamePadding() throws {
        let b = try Backbone.build(.efficientnetLite0, weights: nil, inputSize: 224)
        for name in ["_conv_stem", "_bn0", "_blocks.0", "_blocks.15", "_blocks.3._expand_conv", "_conv_head", "_bn1"] {
            XCTAssertNoThrow(try b.graph.node(named: name), name)
        }
        XCTAssertThrowsError(try b.graph.node(named: "_blocks.16"))
        XCTAssertEqual(b.defaultCAMLayer, "_conv_head")
        // Stride-2 5x5 on an even map: TF pads 1 on top/left and 2 on bottom/right.
        guard case let .conv2d(p) = b.graph.nodes[try b.graph.node(named: "_blocks.3._depthwise_conv")].op else {
            return XCTFail("not a conv")
        }
        XCTAssertEqual([p.padTop, p.padLeft, p.padBottom, p.padRight, p.stride.h, p.groups], [1, 1, 2, 2, 2, 144])
    }
}
