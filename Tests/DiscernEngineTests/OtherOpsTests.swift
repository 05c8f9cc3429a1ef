import XCTest
import DiscernEngine
import DiscernWeights

/// Pooling, batch-norm, activations and linear against PyTorch forward/autograd.
final class OtherOpsTests: XCTestCase {
    func testMaxPool() throws {
        let f = try Fixture.load("maxpool_3_2_1")
        let p = PoolParams(kernel: f.int("kernel"), stride: f.int("stride"), padding: f.int("padding"))
        let (y, ws) = try Ops.maxPool2dWithWorkspace(try f.t("x"), p)
        assertClose(y, try f.t("y"), "maxpool forward")
        assertClose(try Ops.maxPool2d(try f.t("x"), p), try f.t("y"), "maxpool forward (no workspace)")
        assertClose(try Ops.maxPool2dBackward(try f.t("gy"), ws), try f.t("gx"), "maxpool grad input")
        XCTAssertThrowsError(try Ops.maxPool2dBackward(Tensor(zeros: [2, 4, 5, 5]), ws))
        XCTAssertThrowsError(try Ops.maxPool2d(Tensor(zeros: [4, 11, 12]), p))
        XCTAssertThrowsError(
            try Ops.maxPool2d(Tensor(zeros: [1, 1, 11, 12]), PoolParams(kernel: 3, stride: 2, padding: 2)))
    }

    func testGlobalAvgPool() throws {
        let f = try Fixture.load("gap")
        let x = try f.t("x")
        assertClose(try Ops.globalAvgPool(x), try f.t("y"), "gap forward")
        assertClose(try Ops.globalAvgPoolBackward(try f.t("gy"), inputShape: x.shape), try f.t("gx"), "gap grad input")
        XCTAssertThrowsError(try Ops.globalAvgPool(Tensor(zeros: [2, 5])))
        XCTAssertThrowsError(try Ops.globalAvgPoolBackward(Tensor(zeros: [2, 4, 1, 1]), inputShape: x.shape))
    }

    func testBatchNormInference() throws {
        let f = try Fixture.load("batchnorm")
        let p = BatchNormParams(gamma: try f.t("gamma").data, beta: try f.t("beta").data, mean: try f.t("mean").data,
                                variance: try f.t("var").data, eps: Float(f.metadata["eps"] ?? "") ?? -1)
        assertClose(try Ops.batchNorm(try f.t("x"), p), try f.t("y"), "bn forward")
        assertClose(try Ops.batchNormBackward(try f.t("gy"), p), try f.t("gx"), "bn grad input")
        XCTAssertThrowsError(try Ops.batchNorm(Tensor(zeros: [2, 4, 3, 3]), p)) { e in
            XCTAssertTrue("\(e)".contains("4 channels"), "\(e)")
        }
    }

    func testReLUAndGuided() throws {
        let f = try Fixture.load("relu")
        let y = Ops.relu(try f.t("x"))
        assertClose(y, try f.t("y"), "relu forward")
        assertClose(try Ops.reluBackward(try f.t("gy"), output: y), try f.t("gx"), "relu grad input")
        assertClose(
            try Ops.reluBackward(try f.t("gy"), output: y, guided: true), try f.t("ggx"), "guided relu grad input")
        XCTAssertThrowsError(try Ops.reluBackward(Tensor(zeros: [1]), output: y))
    }

    func testReLU6AndGuided() throws {
        let f = try Fixture.load("relu6")
        let y = Ops.relu6(try f.t("x"))
        XCTAssertTrue(y.data.contains(6), "fixture should reach the upper clamp")
        assertClose(y, try f.t("y"), "relu6 forward")
        assertClose(try Ops.relu6Backward(try f.t("gy"), output: y), try f.t("gx"), "relu6 grad input")
        assertClose(
            try Ops.relu6Backward(try f.t("gy"), output: y, guided: true), try f.t("ggx"), "guided relu6 grad input")
    }

    func testLinear() throws {
        let f = try Fixture.load("linear")
        let p = try LinearParams(weight: try f.t("w"), bias: try f.t("b"))
        let x = try f.t("x"), gy = try f.t("gy")
        assertClose(try Ops.linear(x, p), try f.t("y"), "linear forward")
        let g = try Ops.linearBackward(gy, input: x, p)
        assertClose(g.input, try f.t("gx"), "linear grad input")
        assertClose(g.weight, try f.t("gw"), "linear grad weight")
        assertClose(g.bias, try f.t("gb"), "linear grad bias")
        assertClose(try Ops.linearBackwardInput(gy, p), try f.t("gx"), "linear grad input only")
        XCTAssertThrowsError(try Ops.linear(Tensor(zeros: [3, 9]), p)) { e in
            XCTAssertTrue("\(e)".contains("9 features"), "\(e)")
        }
        XCTAssertThrowsError(try Ops.linear(Tensor(zeros: [3, 10, 1, 1]), p))
        XCTAssertThrowsError(try Ops.linearBackward(Tensor(zeros: [3, 6]), input: x, p))
    }

    func testAddAndFlatten() throws {
        let a = Tensor(shape: [1, 2, 1, 2], data: [1, 2, 3, 4]), b = Tensor(shape: [1, 2, 1, 2], data: [10, 20, 30, 40])
        XCTAssertEqual(try Ops.add(a, b).data, [11, 22, 33, 44])
        XCTAssertThrowsError(try Ops.add(a, Tensor(zeros: [1, 4])))
        XCTAssertEqual(try Ops.flatten(a).shape, [1, 4])
    }

    /// gemm with transposes against a hand-checked 2x3 * 3x2 product.
    func testGemmTransposes() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]          // 2x3
        let bt: [Float] = [7, 9, 11, 8, 10, 12]      // B^T stored 2x3, B = [[7,8],[9,10],[11,12]]
        var c = [Float](repeating: 0, count: 4)
        a.withUnsafeBufferPointer { ap in
            bt.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    gemm(
                        transB: true, m: 2, n: 2, k: 3, a: ap.baseAddress!, lda: 3, b: bp.baseAddress!, ldb: 3,
                        c: cp.baseAddress!, ldc: 2)
                }
            }
        }
        XCTAssertEqual(c, [58, 64, 139, 154])
    }
}
