import XCTest
import DiscernEngine
import DiscernWeights

/// The AutogradExecutor on a tiny EfficientNet-Lite-style net (ReLU6, depthwise, TF "same" asymmetric
/// padding, skip connection) against PyTorch logits, autograd and guided-ReLU6 gradients.
final class ExecutorLiteTests: XCTestCase {
    private var f: SafeTensors.File!
    override func setUpWithError() throws { f = try Fixture.load("tiny_lite") }

    private func w(_ k: String) throws -> Tensor { try f.t("w." + k) }
    private func bn(_ k: String) throws -> Op {
        .batchNorm(BatchNormParams(gamma: try w(k + ".weight").data, beta: try w(k + ".bias").data,
                                   mean: try w(k + ".running_mean").data, variance: try w(k + ".running_var").data))
    }
    /// TF "same" padding on a `size` input: the odd pixel goes to the bottom/right.
    private func conv(_ k: String, size: Int, stride: Int, groups: Int = 1) throws -> Op {
        let wt = try w(k + ".weight"), ks = wt.shape[2]
        let total = max(((size + stride - 1) / stride - 1) * stride + ks - size, 0)
        return .conv2d(Conv2dParams(weight: wt, bias: nil, stride: (stride, stride),
                                    pad: (total / 2, total / 2, total - total / 2, total - total / 2), groups: groups))
    }

    private func block(_ g: inout Graph, _ x: Int, _ i: Int, size: Int, stride: Int, skip: Bool) throws -> Int {
        let p = "_blocks.\(i)."
        var h = g.add(try conv(p + "_expand_conv", size: size, stride: 1), [x], names: [p + "_expand_conv"])
        h = g.add(try bn(p + "_bn0"), [h])
        h = g.add(.relu6, [h])
        let ch = try w(p + "_depthwise_conv.weight").shape[0]
        h = g.add(
            try conv(p + "_depthwise_conv", size: size, stride: stride, groups: ch), [h], names: [p + "_depthwise_conv"]
        )
        h = g.add(try bn(p + "_bn1"), [h])
        h = g.add(.relu6, [h])
        h = g.add(
            try conv(p + "_project_conv", size: (size + stride - 1) / stride, stride: 1), [h],
            names: [p + "_project_conv"])
        h = g.add(try bn(p + "_bn2"), [h])
        if skip { h = g.add(.add, [h, x]) }
        g.name(h, "_blocks.\(i)")
        return h
    }

    private func tinyLite() throws -> Graph {
        var g = Graph()
        var h = g.input()
        h = g.add(try conv("_conv_stem", size: 20, stride: 2), [h], names: ["_conv_stem"])
        h = g.add(try bn("_bn0"), [h])
        h = g.add(.relu6, [h])
        h = try block(&g, h, 0, size: 10, stride: 1, skip: true)
        h = try block(&g, h, 1, size: 10, stride: 2, skip: false)
        h = g.add(try conv("_conv_head", size: 5, stride: 1), [h], names: ["_conv_head"])
        h = g.add(try bn("_bn1"), [h])
        h = g.add(.relu6, [h], names: ["_head_act"])
        h = g.add(.globalAvgPool, [h])
        h = g.add(.flatten, [h])
        g.add(.linear(try LinearParams(weight: try w("_fc.weight"), bias: try w("_fc.bias"))), [h], names: ["_fc"])
        return g
    }

    func testLogitsGradientsAndGuided() throws {
        let ex = AutogradExecutor(graph: try tinyLite())
        let fw = try ex.forward(try f.t("x"), taps: ["_head_act"], recordForBackward: true)
        assertClose(fw.output, try f.t("y"), "logits")
        XCTAssertTrue(fw.activations["_head_act"]?.data.contains(6) ?? false, "fixture should saturate ReLU6")
        let b = try ex.backward(outputGradient: try f.t("gy"), taps: ["_blocks.0", "_head_act"], wantInput: true)
        assertClose(try XCTUnwrap(b.gradients["_blocks.0"]), try f.t("g_block0"), "grad at _blocks.0 (skip)")
        assertClose(try XCTUnwrap(b.gradients["_head_act"]), try f.t("g_head"), "grad at head activation")
        assertClose(try XCTUnwrap(b.input), try f.t("gx"), "grad at input")
        let gb = try ex.backward(outputGradient: try f.t("gy"), wantInput: true, guidedReLU: true)
        assertClose(try XCTUnwrap(gb.input), try f.t("guided_gx"), "guided backprop input gradient")
    }
}
