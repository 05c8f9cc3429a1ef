import DiscernEngine
import DiscernModels
import DiscernWeights
import Foundation
import XCTest

final class ResNetTests: XCTestCase {
    /// torchvision's resnet50() key -> shape list, as committed by tools/make_model_fixtures.py.
    func torchvisionResNet50() throws -> [(String, [Int])] {
        let text = try String(contentsOf: Fixtures.dir.appendingPathComponent("resnet50_keys.txt"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), parts[1].split(separator: ",").map { Int($0)! })
        }
    }

    /// The builder takes exactly torchvision's keys with torchvision's shapes (every lookup is
    /// shape-checked and `finish()` rejects leftovers), so the key->shape lists are equal.
    func testResNet50KeysAndShapesMatchTorchvision() throws {
        let list = try torchvisionResNet50()
        XCTAssertEqual(list.count, 267)  // 320 state_dict entries minus 53 num_batches_tracked
        let store = WeightStore(Dictionary(uniqueKeysWithValues: list.map { ($0.0, Tensor(zeros: $0.1)) }))
        let b = try Backbone.build(.resnet50, weights: store)
        XCTAssertEqual(b.featureCount, 2048)
        XCTAssertEqual(b.imagenetHead?.outFeatures, 1000)
        XCTAssertEqual(b.defaultCAMLayer, "layer4.2")
        for name in ["layer4", "layer4.2", "layer3.5.conv2", "layer1.0.downsample.1", "avgpool", "fc"].dropLast() {
            XCTAssertNoThrow(try b.graph.node(named: name), name)
        }
        XCTAssertEqual(try b.graph.node(named: "layer4"), try b.graph.node(named: "layer4.2"))
    }

    func testMissingExtraAndMisshapenKeysAreRejected() throws {
        let list = try torchvisionResNet50()
        var dict = Dictionary(uniqueKeysWithValues: list.map { ($0.0, Tensor(zeros: $0.1)) })
        var d1 = dict
        d1["layer3.5.conv2.weight"] = nil
        XCTAssertThrowsError(try Backbone.build(.resnet50, weights: WeightStore(d1))) {
            XCTAssertEqual($0 as? WeightsError, .missingKey("layer3.5.conv2.weight"))
        }
        var d2 = dict
        d2["layer2.0.bn1.running_var"] = Tensor(zeros: [64])
        XCTAssertThrowsError(try Backbone.build(.resnet50, weights: WeightStore(d2))) {
            XCTAssertEqual(
                $0 as? WeightsError, .shapeMismatch(key: "layer2.0.bn1.running_var", expected: [128], actual: [64]))
        }
        dict["layer5.0.conv1.weight"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try Backbone.build(.resnet50, weights: WeightStore(dict))) {
            XCTAssertEqual($0 as? WeightsError, .unexpectedKeys(["layer5.0.conv1.weight"]))
        }
    }

    /// Narrow torchvision ResNets (real Bottleneck/BasicBlock classes, random BN statistics):
    /// the fused session's features through the fc head equal PyTorch's logits.
    func checkSmallResNet(_ file: String, bottleneck: Bool, layers: [Int]) throws {
        let f = try Fixtures.load(file)
        let store = WeightStore(Fixtures.strip(f.tensors, "weights."))
        let b = try Backbone.resnet(bottleneck: bottleneck, layers: layers, widths: [8, 16, 32, 64], weights: store)
        let x = f.tensors["input"]!
        for batch in [x.shape[0], x.shape[0] + 2] {
            let s = try InferenceSession(graph: b.graph, batchSize: batch)
            let logits = Fixtures.linear(try s.run(x), b.imagenetHead!)
            Fixtures.assertClose(logits, f.tensors["logits"]!, rel: 1e-4, "\(file) logits (session batch \(batch))")
            // A partial batch runs its own plan and gives the same rows.
            let one = Fixtures.linear(try s.run(x.item(1)), b.imagenetHead!)
            Fixtures.assertClose(one, f.tensors["logits"]!.item(1), rel: 1e-4, "\(file) logits item 1")
        }
    }

    func testSmallBottleneckResNetLogitsMatchPyTorch() throws {
        try checkSmallResNet("small_resnet_bottleneck.safetensors", bottleneck: true, layers: [1, 2, 1, 1])
    }

    func testSmallBasicResNetLogitsMatchPyTorch() throws {
        try checkSmallResNet("small_resnet_basic.safetensors", bottleneck: false, layers: [1, 1, 1, 1])
    }

    /// The committed zip-format .pth (torch.save of the narrow bottleneck ResNet) loads through
    /// PyTorchCheckpoint into the builder and gives PyTorch's logits.
    func testSmallResNetFromPthMatchesPyTorch() throws {
        let f = try Fixtures.load("small_resnet_bottleneck.safetensors")
        let sd = try PyTorchCheckpoint.load(Fixtures.dir.appendingPathComponent("small_resnet_bottleneck.pth"))
        let b = try Backbone.resnet(
            bottleneck: true, layers: [1, 2, 1, 1], widths: [8, 16, 32, 64], weights: WeightStore(sd))
        let logits = Fixtures.linear(
            try InferenceSession(graph: b.graph, batchSize: 3).run(f.tensors["input"]!), b.imagenetHead!)
        Fixtures.assertClose(logits, f.tensors["logits"]!, rel: 1e-4, "logits from .pth")
    }

    func testRandomInitIsSeededAndRuns() throws {
        let a = try Backbone.build(.resnet18, weights: nil, seed: 3, inputSize: 64)
        let b = try Backbone.build(.resnet18, weights: nil, seed: 3, inputSize: 64)
        let c = try Backbone.build(.resnet18, weights: nil, seed: 4, inputSize: 64)
        XCTAssertNil(a.imagenetHead)
        let x = Tensor(shape: [1, 3, 64, 64], data: (0..<(3 * 64 * 64)).map { Float($0 % 17) / 17 })
        let fa = try InferenceSession(graph: a.graph, batchSize: 1).run(x)
        let fb = try InferenceSession(graph: b.graph, batchSize: 1).run(x)
        let fc = try InferenceSession(graph: c.graph, batchSize: 1).run(x)
        XCTAssertEqual(fa.shape, [1, 512])
        XCTAssertEqual(fa, fb)
        XCTAssertNotEqual(fa, fc)
        XCTAssertTrue(fa.data.allSatisfy { $0.isFinite && $0 >= 0 })
    }
}
