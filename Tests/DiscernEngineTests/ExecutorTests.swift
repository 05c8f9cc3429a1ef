import XCTest
@testable import DiscernEngine
import DiscernWeights

/// The AutogradExecutor on a tiny torchvision-style residual net (BasicBlock, ResNet key names),
/// against PyTorch's logits, activations, autograd gradients and guided-backprop gradient.
final class ExecutorTests: XCTestCase {
    private var f: SafeTensors.File!

    override func setUpWithError() throws { f = try Fixture.load("tiny_resnet") }

    private func w(_ k: String) throws -> Tensor { try f.t("w." + k) }
    private func bn(_ k: String) throws -> Op {
        .batchNorm(BatchNormParams(gamma: try w(k + ".weight").data, beta: try w(k + ".bias").data,
                                   mean: try w(k + ".running_mean").data, variance: try w(k + ".running_var").data))
    }
    private func conv(_ k: String, stride: Int, padding: Int) throws -> Op {
        .conv2d(Conv2dParams(weight: try w(k + ".weight"), stride: stride, padding: padding))
    }

    /// torchvision BasicBlock: conv-bn-relu-conv-bn (+ identity or downsample) -> relu.
    private func block(_ g: inout Graph, _ x: Int, _ p: String, stride: Int, downsample: Bool, extra: [String]) throws
        -> Int
    {
        var h = g.add(try conv(p + ".conv1", stride: stride, padding: 1), [x], names: [p + ".conv1"])
        h = g.add(try bn(p + ".bn1"), [h], names: [p + ".bn1"])
        h = g.add(.relu, [h])
        h = g.add(try conv(p + ".conv2", stride: 1, padding: 1), [h], names: [p + ".conv2"])
        h = g.add(try bn(p + ".bn2"), [h], names: [p + ".bn2"])
        var skip = x
        if downsample {
            skip = g.add(try conv(p + ".downsample.0", stride: stride, padding: 0), [x], names: [p + ".downsample.0"])
            skip = g.add(try bn(p + ".downsample.1"), [skip], names: [p + ".downsample.1", p + ".downsample"])
        }
        h = g.add(.add, [h, skip])
        return g.add(.relu, [h], names: [p] + extra)
    }

    private func tinyNet() throws -> Graph {
        var g = Graph()
        var h = g.input()
        h = g.add(try conv("conv1", stride: 2, padding: 1), [h], names: ["conv1"])
        h = g.add(try bn("bn1"), [h], names: ["bn1"])
        h = g.add(.relu, [h], names: ["relu"])
        h = g.add(.maxPool(PoolParams(kernel: 3, stride: 2, padding: 1)), [h], names: ["maxpool"])
        h = try block(&g, h, "layer1.0", stride: 1, downsample: false, extra: ["layer1"])
        h = try block(&g, h, "layer2.0", stride: 2, downsample: true, extra: ["layer2"])
        h = g.add(.globalAvgPool, [h], names: ["avgpool"])
        h = g.add(.flatten, [h])
        g.add(.linear(try LinearParams(weight: try w("fc.weight"), bias: try w("fc.bias"))), [h], names: ["fc"])
        return g
    }

    func testForwardLogitsAndTap() throws {
        let ex = AutogradExecutor(graph: try tinyNet())
        let fw = try ex.forward(try f.t("x"), taps: ["layer1"])
        assertClose(fw.output, try f.t("y"), "logits")
        assertClose(try XCTUnwrap(fw.activations["layer1"]), try f.t("layer1"), "layer1 activation")
        XCTAssertEqual(Array(fw.activations.keys), ["layer1"])
    }

    func testGradientsAtInnerTapsAndInput() throws {
        let ex = AutogradExecutor(graph: try tinyNet())
        _ = try ex.forward(try f.t("x"), recordForBackward: true)
        let b = try ex.backward(outputGradient: try f.t("gy"), taps: ["layer1", "layer2.0.conv1"], wantInput: true)
        assertClose(try XCTUnwrap(b.gradients["layer1"]), try f.t("g_layer1"), "grad at layer1 (two consumers)")
        assertClose(try XCTUnwrap(b.gradients["layer2.0.conv1"]), try f.t("g_layer2_0_conv1"), "grad at layer2.0.conv1")
        assertClose(try XCTUnwrap(b.input), try f.t("gx"), "grad at input")
    }

    /// Without the input gradient, backward stops at the deepest tap and still gives the same values.
    func testEarlyStopGivesSameTapGradient() throws {
        let ex = AutogradExecutor(graph: try tinyNet())
        _ = try ex.forward(try f.t("x"), recordForBackward: true)
        let b = try ex.backward(outputGradient: try f.t("gy"), taps: ["layer2.0.conv1"])
        XCTAssertNil(b.input)
        assertClose(try XCTUnwrap(b.gradients["layer2.0.conv1"]), try f.t("g_layer2_0_conv1"), "grad at layer2.0.conv1")
        // Grad-CAM at the last block: only fc, flatten and avgpool are differentiated.
        let cam = try ex.backward(outputGradient: try f.t("gy"), taps: ["layer2"])
        XCTAssertEqual(ex.lastBackwardSteps, 3)
        XCTAssertEqual(cam.gradients["layer2"]?.shape, [2, 16, 4, 4])
        // The record survives a backward: a second one (to the input) still works.
        let b2 = try ex.backward(outputGradient: try f.t("gy"), wantInput: true)
        assertClose(try XCTUnwrap(b2.input), try f.t("gx"), "grad at input after an early-stopped backward")
    }

    func testGuidedBackpropInputGradient() throws {
        let ex = AutogradExecutor(graph: try tinyNet())
        _ = try ex.forward(try f.t("x"), recordForBackward: true)
        let b = try ex.backward(outputGradient: try f.t("gy"), wantInput: true, guidedReLU: true)
        assertClose(try XCTUnwrap(b.input), try f.t("guided_gx"), "guided backprop input gradient")
    }

    func testUnknownTapListsLayers() throws {
        let ex = AutogradExecutor(graph: try tinyNet())
        XCTAssertThrowsError(try ex.forward(try f.t("x"), taps: ["layer9"])) { e in
            guard case let EngineError.unknownLayer(name, available) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(name, "layer9")
            XCTAssertTrue(available.contains("layer2.0.conv1"))
            XCTAssertTrue("\(e)".contains("layer9"))
        }
        _ = try ex.forward(try f.t("x"), recordForBackward: true)
        XCTAssertThrowsError(try ex.backward(outputGradient: try f.t("gy"), taps: ["nope"]))
    }

    func testMisuseThrows() throws {
        let ex = AutogradExecutor(graph: try tinyNet())
        XCTAssertThrowsError(try ex.backward(outputGradient: try f.t("gy"))) { e in
            XCTAssertTrue("\(e)".contains("recordForBackward"), "\(e)")
        }
        _ = try ex.forward(try f.t("x"))   // not recorded
        XCTAssertThrowsError(try ex.backward(outputGradient: try f.t("gy")))
        _ = try ex.forward(try f.t("x"), recordForBackward: true)
        XCTAssertThrowsError(try ex.backward(outputGradient: Tensor(zeros: [2, 4]))) { e in
            XCTAssertTrue("\(e)".contains("output gradient"), "\(e)")
        }
        // Wrong channel count: the error names the layer.
        XCTAssertThrowsError(try ex.forward(Tensor(zeros: [1, 4, 32, 32]))) { e in
            XCTAssertTrue("\(e)".hasPrefix("conv1:"), "\(e)")
        }
    }
}
