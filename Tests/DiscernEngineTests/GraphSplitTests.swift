import XCTest
import DiscernEngine
import DiscernWeights

/// Graph.split / latestCut on the tiny PyTorch fixture nets: prefix then tail must give PyTorch's
/// logits (and the unsplit graph's values and gradients); cuts inside a residual block must throw.
final class GraphSplitTests: XCTestCase {
    private func bn(_ f: SafeTensors.File, _ k: String) throws -> Op {
        .batchNorm(
            BatchNormParams(
                gamma: try f.t("w." + k + ".weight").data, beta: try f.t("w." + k + ".bias").data,
                mean: try f.t("w." + k + ".running_mean").data, variance: try f.t("w." + k + ".running_var").data))
    }

    /// tools/make_engine_fixtures.py's tiny torchvision-style ResNet (BasicBlocks).
    private func tinyResNet(_ f: SafeTensors.File) throws -> Graph {
        func conv(_ k: String, _ s: Int, _ p: Int) throws -> Op {
            .conv2d(Conv2dParams(weight: try f.t("w." + k + ".weight"), stride: s, padding: p))
        }
        var g = Graph()
        var h = g.input()
        h = g.add(try conv("conv1", 2, 1), [h], names: ["conv1"])
        h = g.add(try bn(f, "bn1"), [h], names: ["bn1"])
        h = g.add(.relu, [h], names: ["relu"])
        h = g.add(.maxPool(PoolParams(kernel: 3, stride: 2, padding: 1)), [h], names: ["maxpool"])
        for (p, s, down) in [("layer1.0", 1, false), ("layer2.0", 2, true)] {
            var y = g.add(try conv(p + ".conv1", s, 1), [h], names: [p + ".conv1"])
            y = g.add(try bn(f, p + ".bn1"), [y])
            y = g.add(.relu, [y])
            y = g.add(try conv(p + ".conv2", 1, 1), [y], names: [p + ".conv2"])
            y = g.add(try bn(f, p + ".bn2"), [y])
            var skip = h
            if down { skip = g.add(try bn(f, p + ".downsample.1"), [g.add(try conv(p + ".downsample.0", s, 0), [h])]) }
            h = g.add(.relu, [g.add(.add, [y, skip])], names: [p, String(p.prefix(6))])
        }
        h = g.add(.flatten, [g.add(.globalAvgPool, [h], names: ["avgpool"])])
        g.add(.linear(try LinearParams(weight: try f.t("w.fc.weight"), bias: try f.t("w.fc.bias"))), [h], names: ["fc"])
        return g
    }

    /// The tiny EfficientNet-Lite-style net (ReLU6, depthwise, TF "same" padding, one skip).
    private func tinyLite(_ f: SafeTensors.File) throws -> Graph {
        func conv(_ k: String, _ size: Int, _ s: Int, groups: Int = 1) throws -> Op {
            let wt = try f.t("w." + k + ".weight"), ks = wt.shape[2]
            let t = max(((size + s - 1) / s - 1) * s + ks - size, 0)
            return .conv2d(
                Conv2dParams(
                    weight: wt, bias: nil, stride: (s, s), pad: (t / 2, t / 2, t - t / 2, t - t / 2), groups: groups))
        }
        var g = Graph()
        var h = g.input()
        h = g.add(
            .relu6, [g.add(try bn(f, "_bn0"), [g.add(try conv("_conv_stem", 20, 2), [h], names: ["_conv_stem"])])])
        for (i, size, s, skip) in [(0, 10, 1, true), (1, 10, 2, false)] {
            let p = "_blocks.\(i)."
            var y = g.add(try conv(p + "_expand_conv", size, 1), [h], names: [p + "_expand_conv"])
            y = g.add(.relu6, [g.add(try bn(f, p + "_bn0"), [y])])
            let ch = try f.t("w." + p + "_depthwise_conv.weight").shape[0]
            y = g.add(try conv(p + "_depthwise_conv", size, s, groups: ch), [y], names: [p + "_depthwise_conv"])
            y = g.add(.relu6, [g.add(try bn(f, p + "_bn1"), [y])])
            y = g.add(try conv(p + "_project_conv", (size + s - 1) / s, 1), [y], names: [p + "_project_conv"])
            y = g.add(try bn(f, p + "_bn2"), [y])
            if skip { y = g.add(.add, [y, h]) }
            g.name(y, "_blocks.\(i)")
            h = y
        }
        h = g.add(try conv("_conv_head", 5, 1), [h], names: ["_conv_head"])
        h = g.add(.relu6, [g.add(try bn(f, "_bn1"), [h])], names: ["_head_act"])
        h = g.add(.flatten, [g.add(.globalAvgPool, [h])])
        g.add(.linear(try LinearParams(weight: try f.t("w._fc.weight"), bias: try f.t("w._fc.bias"))), [h], names: ["_fc"])
        return g
    }

    /// Every valid cut: prefix then tail on the AutogradExecutor equals PyTorch's logits and the full graph's.
    private func checkAllCuts(_ g: Graph, _ f: SafeTensors.File) throws -> [Int] {
        let x = try f.t("x")
        let full = try AutogradExecutor(graph: g).forward(x).output
        assertClose(full, try f.t("y"), "full graph logits")
        let cuts = g.nodes.indices.filter { g.isValidCut($0) }
        for c in cuts {
            let (prefix, tail) = try g.split(after: c)
            XCTAssertEqual(prefix.nodes.count, c + 1)
            XCTAssertEqual(prefix.output, c)
            XCTAssertEqual(tail.nodes.count, g.nodes.count - c)
            XCTAssertEqual(tail.nodes[0].names, g.nodes[c].names)
            let mid = try AutogradExecutor(graph: prefix).forward(x).output
            let y = try AutogradExecutor(graph: tail).forward(mid).output
            assertClose(y, try f.t("y"), "logits via cut at \(c)")
            assertClose(y, full, tol: 1e-6, "logits via cut at \(c) vs unsplit")
        }
        return cuts
    }

    func testResNetCutsAndLatestCut() throws {
        let f = try Fixture.load("tiny_resnet"), g = try tinyResNet(f)
        let cuts = try checkAllCuts(g, f)
        let l1 = try g.node(named: "layer1.0"), l2 = try g.node(named: "layer2.0"), pool = try g.node(named: "maxpool")
        XCTAssertTrue(cuts.contains(l1) && cuts.contains(pool))
        // A block output (ReLU of the residual sum): the latest cut is the sum itself.
        let sum = g.nodes[l2].inputs[0]
        guard case .add = g.nodes[sum].op else { return XCTFail("layer2.0 should be the ReLU of a residual sum") }
        XCTAssertEqual(g.latestCut(before: l2), sum)
        XCTAssertEqual(g.latestCut(before: sum), l1, "before the sum: the previous block's output")
        XCTAssertEqual(g.latestCut(before: try g.node(named: "layer2.0.conv2")), l1)
        XCTAssertNil(g.latestCut(before: try g.node(named: "conv1")), "first layer: nothing before it but the input")
        // Inside a residual block (the skip still reads the block's input), at/after the output, out of range.
        for bad in [
            try g.node(named: "layer1.0.conv1"), try g.node(named: "layer2.0.conv2"), g.output, g.nodes.count, -1
        ] {
            XCTAssertThrowsError(try g.split(after: bad), "cut at \(bad)")
        }
    }

    func testLiteCutsAndLatestCut() throws {
        let f = try Fixture.load("tiny_lite"), g = try tinyLite(f)
        _ = try checkAllCuts(g, f)
        let b1 = try g.node(named: "_blocks.1")
        XCTAssertEqual(g.latestCut(before: try g.node(named: "_conv_head")), b1)
        // Inside block 0 (it has a skip) the latest cut is the block's input: the stem's ReLU6.
        let stemAct = try g.node(named: "_conv_stem") + 2
        XCTAssertEqual(g.latestCut(before: try g.node(named: "_blocks.0._depthwise_conv")), stemAct)
        XCTAssertThrowsError(try g.split(after: try g.node(named: "_blocks.0._expand_conv")))
    }

    /// The tail's gradient at a tap equals the unsplit graph's, and the fused session runs the prefix.
    func testTailGradientAndFusedPrefix() throws {
        let f = try Fixture.load("tiny_resnet"), g = try tinyResNet(f), x = try f.t("x")
        let full = AutogradExecutor(graph: g)
        let out = try full.forward(x, taps: ["layer2"], recordForBackward: true).output
        let ones = Tensor(shape: out.shape, data: (0..<out.count).map { Float($0 % 3) - 1 })
        let ref = try XCTUnwrap(try full.backward(outputGradient: ones, taps: ["layer2"]).gradients["layer2"])

        let cut = try XCTUnwrap(g.latestCut(before: try g.node(named: "layer2.0")))
        let (prefix, tailGraph) = try g.split(after: cut)
        let fused = try InferenceSession(graph: prefix, batchSize: 4).run(x)
        let plain = try AutogradExecutor(graph: prefix).forward(x).output
        assertClose(fused, plain, tol: 1e-5, "fused prefix vs executor prefix")
        let tail = AutogradExecutor(graph: tailGraph)
        _ = try tail.forward(fused, taps: ["layer2"], recordForBackward: true)
        let got = try XCTUnwrap(try tail.backward(outputGradient: ones, taps: ["layer2"]).gradients["layer2"])
        assertClose(got, ref, tol: 1e-5, "tap gradient via the split")
    }
}
