import XCTest
import DiscernEngine
import DiscernTraining
import DiscernWeights

/// Fine-tuning on a tiny network against PyTorch autograd + torch.optim.Adam with parameter groups
/// (tools/make_finetune_fixtures.py): frozen conv-with-bias stem, depthwise residual block, max-pool,
/// 1x1 conv, BatchNorm in eval mode, linear head. Step-1 gradients of every trainable parameter, the
/// loss of each of three steps, and every parameter after them equal PyTorch's.
final class FineTuneSmallTests: XCTestCase {
    func testGradientsLossesAndParametersAfterThreeAdamStepsMatchPyTorch() throws {
        let f = try trainingFixture("finetune_small.safetensors")
        func w(_ key: String) throws -> Tensor { try XCTUnwrap(f.tensors["w." + key], key) }
        func bn(_ key: String) throws -> Op {
            .batchNorm(BatchNormParams(gamma: try w(key + ".weight").data, beta: try w(key + ".bias").data,
                                       mean: try w(key + ".running_mean").data,
                                       variance: try w(key + ".running_var").data))
        }
        func conv(_ key: String, stride: Int = 1, padding: Int = 0, groups: Int = 1) throws -> Op {
            .conv2d(Conv2dParams(weight: try w(key + ".weight"), bias: f.tensors["w." + key + ".bias"],
                                 stride: stride, padding: padding, groups: groups))
        }
        var g = Graph()
        var h = g.input()
        h = g.add(try conv("stem", stride: 2, padding: 1), [h], names: ["stem"])
        h = g.add(try bn("stem_bn"), [h], names: ["stem_bn"])
        let stem = g.add(.relu6, [h])
        let dw = g.add(try conv("dw", padding: 1, groups: 8), [stem], names: ["dw"])
        h = g.add(try bn("dw_bn"), [dw], names: ["dw_bn"])
        h = g.add(.relu, [h])
        h = g.add(try conv("pw"), [h], names: ["pw"])
        h = g.add(try bn("pw_bn"), [h], names: ["pw_bn"])
        h = g.add(.add, [stem, h])
        h = g.add(.maxPool(PoolParams(kernel: 3, stride: 2, padding: 1)), [h])
        let top = g.add(try conv("top"), [h], names: ["top"])
        h = g.add(try bn("top_bn"), [top], names: ["top_bn"])
        h = g.add(.relu6, [h])
        h = g.add(.globalAvgPool, [h])
        g.add(.flatten, [h])

        let trainable = try TrainableGraph(graph: g, from: dw, groupStarts: [dw, top])
        XCTAssertEqual(trainable.nodes.count, 6, "dw, dw_bn, pw, pw_bn, top, top_bn")
        let head = try LinearParams(weight: try w("fc.weight"), bias: try w("fc.bias"))
        let tuner = FineTuner(trainable: trainable, head: head)
        let x = try XCTUnwrap(f.tensors["x"]), labels = try XCTUnwrap(f.tensors["labels"]).data.map { Int($0) }
        let rates = try XCTUnwrap(f.tensors["lr"]).data.map(Double.init)

        let grads = try tuner.gradients(x, labels: labels)
        for (key, expected) in f.tensors where key.hasPrefix("grad.") {
            let name = String(key.dropFirst(5)).replacingOccurrences(of: "fc.", with: "head.")
            let got = try XCTUnwrap(grads[name], "no gradient for \(name)")
            assertClose(got.data, expected.data, tol: 2e-6, "step-1 gradient of \(name)")
        }
        XCTAssertEqual(grads.count, 12, "every trainable array has a gradient")
        var losses: [Float] = []
        for _ in 0..<3 { losses.append(try tuner.step(x, labels: labels, learningRates: rates).loss) }
        assertClose(losses, try XCTUnwrap(f.tensors["loss"]).data, tol: 1e-6, "loss per step")

        var after = tuner.trainable.stateDict
        after["fc.weight"] = tuner.head.weight
        after["fc.bias"] = tuner.head.bias
        var compared = 0
        for (key, expected) in f.tensors where key.hasPrefix("after.") && !key.contains("running_") {
            let name = String(key.dropFirst(6))
            if name.hasPrefix("stem") { continue }   // frozen: not in the trainable graph
            assertClose(try XCTUnwrap(after[name], name).data, expected.data, tol: 2e-6, "\(name) after 3 steps")
            compared += 1
        }
        XCTAssertEqual(compared, 12)
        // Frozen BatchNorm statistics stay as they were (PyTorch's eval mode leaves them too).
        guard case .batchNorm(let p) = tuner.trainable.graph.nodes[dw + 1].op else { return XCTFail("dw_bn moved") }
        XCTAssertEqual(p.mean, try w("dw_bn.running_mean").data)
        XCTAssertEqual(try XCTUnwrap(f.tensors["after.dw_bn.running_var"]).data, p.variance)
    }
}

/// The one-cycle schedule against torch.optim.lr_scheduler.OneCycleLR with fastai fine_tune's settings.
final class OneCycleTests: XCTestCase {
    func testLearningRateAndBeta1MatchTorchOneCycleLR() throws {
        let f = try trainingFixture("finetune_small.safetensors")
        let rates = try XCTUnwrap(f.tensors["cycle.lr"]).data, betas = try XCTUnwrap(f.tensors["cycle.beta1"]).data
        let cycle = OneCycle(steps: rates.count)
        assertClose((0..<rates.count).map { Float(cycle.scale($0) * 1e-3) * 1000 }, rates.map { $0 * 1000 },
                    tol: 1e-5, "learning rate per step (x1000)")
        assertClose((0..<betas.count).map { Float(cycle.beta1($0)) }, betas, tol: 1e-6, "beta1 per step")
        let groups = OneCycle.discriminative(max: 1e-3, groups: 3)
        assertClose(groups.map { Float($0 * 1e5) }, [1, 10, 100], tol: 1e-5, "lr/100 ... lr (x1e5)")
    }
}
