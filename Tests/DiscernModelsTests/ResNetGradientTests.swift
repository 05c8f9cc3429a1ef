import DiscernEngine
import DiscernModels
import DiscernWeights
import XCTest

/// The narrow torchvision ResNet through the engine's autograd AutogradExecutor: `layer4` activation
/// and d(Σᵢ logit[i, tᵢ]) / d(layer4) equal PyTorch's (autograd hook on model.layer4).
final class ResNetGradientTests: XCTestCase {
    func testLayer4ActivationAndLogitGradientMatchPyTorch() throws {
        let f = try Fixtures.load("small_resnet_bottleneck.safetensors")
        let b = try Backbone.resnet(bottleneck: true, layers: [1, 2, 1, 1], widths: [8, 16, 32, 64],
                                    weights: WeightStore(Fixtures.strip(f.tensors, "weights.")))
        let head = try XCTUnwrap(b.imagenetHead)
        let ex = AutogradExecutor(graph: b.graph)
        let fwd = try ex.forward(f.tensors["input"]!, taps: ["layer4"], recordForBackward: true)
        Fixtures.assertClose(
            Fixtures.linear(fwd.output, head), f.tensors["logits"]!, rel: 1e-4, "AutogradExecutor logits")
        Fixtures.assertClose(fwd.activations["layer4"]!, f.tensors["layer4"]!, rel: 1e-4, "layer4 activation")
        // The head is linear: d logit[i, t] / d features[i] = fc.weight[t].
        let targets = f.tensors["targets"]!.data.map { Int($0) }
        let k = head.inFeatures
        var g = [Float](repeating: 0, count: targets.count * k)
        for (i, t) in targets.enumerated() { for j in 0..<k { g[i * k + j] = head.weight.data[t * k + j] } }
        let back = try ex.backward(outputGradient: Tensor(shape: [targets.count, k], data: g), taps: ["layer4"])
        Fixtures.assertClose(back.gradients["layer4"]!, f.tensors["layer4_grad"]!, rel: 1e-4, "d logit / d layer4")
    }
}
