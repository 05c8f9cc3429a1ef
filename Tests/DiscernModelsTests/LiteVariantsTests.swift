import DiscernTestSupport
import DiscernEngine
import DiscernModels
import DiscernWeights
import Foundation
import XCTest

/// EfficientNet-Lite1...Lite4 against the efficientnet_lite_pytorch package itself, run at test time by
/// tools/make_lite_reference.py (the weights are tens of MB, so nothing is committed): Lite1/Lite2 with their
/// real ImageNet weights on shared photos, Lite3/Lite4 (no PyTorch weights published) with random weights.
final class LiteVariantsTests: XCTestCase {
    static let dir = TestEnvironment.referenceFolder(
        "discern-lite-reference",
        scripts: ["tools/make_lite_reference.py", "tools/batchnorm_random.py"])

    static func reference(_ name: String) throws -> SafeTensors.File {
        let file = dir.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = try TestEnvironment.lite1Weights()
            _ = try TestEnvironment.lite2Weights()
            let python = try TestEnvironment.torchPython()
            let script = Fixtures.repo.appendingPathComponent("tools/make_lite_reference.py").path
            guard ResNet50TorchTests.run(python, [script, dir.path]) == 0 else {
                throw MissingPrerequisite("the EfficientNet-Lite reference: \(python) \(script) \(dir.path) failed",
                                          fix: "run that command to see why (scripts/setup --dev installs "
                                              + "efficientnet-lite-pytorch into ~/.cache/discern/python)")
            }
        }
        return try SafeTensors.read(file)
    }

    /// "lite1" for efficientnet-lite1: the reference files' prefix.
    static func variant(_ kind: BackboneKind) -> String {
        kind.rawValue.replacingOccurrences(of: "efficientnet-", with: "")
    }

    /// [N,H,W,3] bytes -> [N,3,H,W], normalised as the backbone wants.
    func batch(_ nhwc: Tensor, _ norm: Normalization) -> Tensor {
        let n = nhwc.shape[0], h = nhwc.shape[1], w = nhwc.shape[2], plane = h * w
        var out = [Float](repeating: 0, count: n * 3 * plane)
        for i in 0..<n { for c in 0..<3 { for p in 0..<plane {
            out[(i * 3 + c) * plane + p] = (nhwc.data[(i * plane + p) * 3 + c] / 255 - norm.mean[c]) / norm.std[c]
        } } }
        return Tensor(shape: [n, 3, h, w], data: out)
    }

    /// `inputSize`: built for another side than the variant's own (`--image-size`), against the reference built
    /// for that side.
    func checkRealWeights(_ kind: BackboneKind, _ weights: URL, side: Int, inputSize: Int? = nil) throws {
        let ref = try Self.reference(Self.variant(kind) + "_photos" + (inputSize.map { "_\($0)" } ?? "")
                                     + ".safetensors")
        let b = try Backbone.build(kind, weights: WeightStore(try PyTorchCheckpoint.load(weights)),
                                   inputSize: inputSize)
        XCTAssertEqual(b.inputSize, side)
        XCTAssertEqual(b.normalization, .lite)
        let images = try XCTUnwrap(ref.tensors["images_nhwc"])
        XCTAssertEqual(images.shape, [6, side, side, 3])
        let features = try InferenceSession(graph: b.graph, batchSize: 6).run(batch(images, b.normalization))
        let logits = Fixtures.linear(features, try XCTUnwrap(b.imagenetHead))
        Fixtures.assertClose(logits, try XCTUnwrap(ref.tensors["logits"]), abs: 1e-3, "\(kind.rawValue) logits")
        let photos = (ref.metadata["photos"] ?? "").split(separator: ",").map(String.init)
        XCTAssertEqual(photos.count, 6)
        var rightSpecies: [String] = [], wrong: [String] = []
        for (i, photo) in photos.enumerated() {
            let got = logits.item(i), want = ref.tensors["logits"]!.item(i)
            let top1 = got.data.indices.max { got.data[$0] < got.data[$1] }!
            let refTop1 = want.data.indices.max { want.data[$0] < want.data[$1] }!
            XCTAssertEqual(top1, refTop1, "\(kind.rawValue) \(photo): top-1 differs from the reference's")
            let species = photo.contains("/cats/") ? 281...285 : 151...268
            if species.contains(top1) { rightSpecies.append(photo) } else { wrong.append("\(photo) -> \(top1)") }
        }
        // One of the six (cat.4002, a skunk-coloured cat) is ImageNet class 361 for both the reference and us.
        XCTAssertGreaterThanOrEqual(rightSpecies.count, 5, "\(kind.rawValue): not a cat/dog class: \(wrong)")
    }

    func testLite1RealWeightsMatchReferenceOnPhotos() throws {
        try checkRealWeights(.efficientnetLite1, try TestEnvironment.lite1Weights(), side: 240)
    }

    /// Lite1 at 280 px instead of its own 240: the "same" padding of every strided convolution follows the side.
    func testLite1AtAnotherInputSizeMatchesReference() throws {
        try checkRealWeights(.efficientnetLite1, try TestEnvironment.lite1Weights(), side: 280, inputSize: 280)
    }

    func testLite2RealWeightsMatchReferenceOnPhotos() throws {
        try checkRealWeights(.efficientnetLite2, try TestEnvironment.lite2Weights(), side: 260)
    }

    /// The whole state dict must be consumed (every key and shape: channels, repeats, kernels) and the
    /// logits must match, which also pins strides and TF "same" padding at the variant's own side.
    func checkRandomWeights(_ kind: BackboneKind, side: Int, blocks: Int) throws {
        let ref = try Self.reference(Self.variant(kind) + "_random.safetensors")
        let state = ref.tensors.filter { !$0.key.hasPrefix("input.") && !$0.key.hasPrefix("output.") }
        let b = try Backbone.build(kind, weights: WeightStore(state))
        XCTAssertEqual(b.inputSize, side)
        XCTAssertEqual(b.featureCount, 1280, "Lite keeps the 1280-channel head")
        XCTAssertNoThrow(try b.graph.node(named: "_blocks.\(blocks - 1)"))
        XCTAssertThrowsError(try b.graph.node(named: "_blocks.\(blocks)"))
        let x = try XCTUnwrap(ref.tensors["input.x"])
        let features = try InferenceSession(graph: b.graph, batchSize: 1).run(x)
        let logits = Fixtures.linear(features, try XCTUnwrap(b.imagenetHead))
        Fixtures.assertClose(logits, try XCTUnwrap(ref.tensors["output.logits"]), rel: 1e-4, "\(kind.rawValue) logits")
    }

    func testLite3StructureMatchesReference() throws {
        try checkRandomWeights(.efficientnetLite3, side: 280, blocks: 24)
    }

    func testLite4StructureMatchesReference() throws {
        try checkRandomWeights(.efficientnetLite4, side: 300, blocks: 30)
    }

    /// Sides and stage widths from the EfficientNet-Lite table; the stem (32) is never scaled.
    func testScaledWidthsAndSides() throws {
        XCTAssertEqual(BackboneKind.allCases.filter(\.isEfficientNetLite).map(\.inputSize), [224, 240, 260, 280, 300])
        XCTAssertEqual(BackboneKind.resnet50.inputSize, 224)
        let lite4 = try Backbone.build(.efficientnetLite4, weights: nil)
        guard case let .conv2d(stem) = lite4.graph.nodes[try lite4.graph.node(named: "_conv_stem")].op,
              case let .conv2d(last) = lite4.graph.nodes[try lite4.graph.node(named: "_blocks.29._project_conv")].op
        else { return XCTFail("not convolutions") }
        XCTAssertEqual(stem.weight.shape, [32, 3, 3, 3])
        XCTAssertEqual(last.weight.shape[0], 448, "320 x 1.4")
    }
}
