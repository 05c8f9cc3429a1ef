import XCTest
@testable import DiscernEngine
import DiscernWeights

/// Conv2d forward/backward against PyTorch (F.conv2d, F.pad for asymmetric padding, autograd).
final class ConvOpsTests: XCTestCase {
    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try Fixture.load("conv_" + name)
        let pad = (f.metadata["pad"] ?? "").split(separator: ",").compactMap { Int($0) }
        XCTAssertEqual(pad.count, 4)
        let p = Conv2dParams(weight: try f.t("w"), bias: f.tensors["b"], stride: (f.int("stride"), f.int("stride")),
                             pad: (pad[0], pad[1], pad[2], pad[3]), groups: f.int("groups"))
        let x = try f.t("x"), gy = try f.t("gy")
        assertClose(try Ops.conv2d(x, p), try f.t("y"), "\(name) forward", file: file, line: line)
        assertClose(
            try Ops.conv2dBackwardData(gy, p, inputShape: x.shape), try f.t("gx"), "\(name) grad input", file: file,
            line: line)
        let (gw, gb) = try Ops.conv2dBackwardWeights(gy, input: x, p)
        assertClose(gw, try f.t("gw"), "\(name) grad weight", file: file, line: line)
        if let ref = f.tensors["gb"] {
            guard let gb else { return XCTFail("\(name): no bias gradient", file: file, line: line) }
            assertClose(gb, ref, "\(name) grad bias", file: file, line: line)
        } else {
            XCTAssertNil(gb, file: file, line: line)
        }
    }

    func test3x3Stride1Pad1Bias() throws { try check("3x3_s1_p1") }
    func test7x7Stride2Pad3NoBias() throws { try check("7x7_s2_p3") }
    func test1x1Stride2() throws { try check("1x1_s2") }
    func testAsymmetricPadding() throws { try check("asym_s2") }
    func testGroups2() throws { try check("groups2") }
    func testDepthwiseStride2() throws { try check("depthwise_s2") }
    func testDepthwise5x5AsymmetricBias() throws { try check("depthwise5_asym") }

    /// 16 channels fill both the 8-channel (SSE4.1-AVX2) and the 16-channel (AVX-512) block, so all three
    /// primitives run oneDNN's depthwise jit kernels on the blocked layout, reordered from and to NCHW.
    func testDepthwiseRunsJitKernelsOnTheBlockedLayout() throws {
        try check("depthwise16_bias")
        let f = try Fixture.load("conv_depthwise16_bias")
        let params = Conv2dParams(weight: try f.t("w"), bias: f.tensors["b"], stride: (1, 1), pad: (1, 1, 1, 1),
                                  groups: 16)
        let used = try Ops.conv2dImplementations(inputShape: try f.t("x").shape, params)
        XCTAssertTrue(used.allSatisfy { $0.hasPrefix("jit_dw") }, "\(used) on \(CPUKernels.isaName)")
    }

    /// oneDNN has no blocked weight-gradient kernel for a 5x5 depthwise kernel on an 8x8 map; that primitive takes
    /// the plain layout (its GEMM-based convolution) rather than the reference loops, the other two stay blocked.
    func testDepthwiseWithoutABlockedKernelAvoidsReferenceCode() throws {
        try check("depthwise32_5x5")
        let f = try Fixture.load("conv_depthwise32_5x5")
        let params = Conv2dParams(weight: try f.t("w"), bias: nil, stride: (1, 1), pad: (2, 2, 2, 2), groups: 32)
        let used = try Ops.conv2dImplementations(inputShape: try f.t("x").shape, params)
        XCTAssertFalse(used.contains { $0.hasPrefix("ref") }, "\(used) on \(CPUKernels.isaName)")
        XCTAssertTrue(used.prefix(2).allSatisfy { $0.hasPrefix("jit_dw") }, "\(used) on \(CPUKernels.isaName)")
    }

    /// Repeated calls hit the primitive cache and give identical results.
    func testCachedPrimitiveReuse() throws {
        let f = try Fixture.load("conv_3x3_s1_p1")
        let p = Conv2dParams(weight: try f.t("w"), bias: f.tensors["b"], stride: 1, padding: 1)
        let a = try Ops.conv2d(try f.t("x"), p), b = try Ops.conv2d(try f.t("x"), p)
        XCTAssertEqual(a, b)
        assertClose(b, try f.t("y"), "cached forward")
    }

    func testBadShapesThrow() throws {
        let w = Tensor(zeros: [6, 4, 3, 3])
        let p = Conv2dParams(weight: w, stride: 1, padding: 1)
        XCTAssertThrowsError(try Ops.conv2d(Tensor(zeros: [1, 3, 8, 8]), p)) { e in
            XCTAssertTrue("\(e)".contains("channels"), "\(e)")
        }
        XCTAssertThrowsError(try Ops.conv2d(Tensor(zeros: [3, 8, 8]), p))
        // smaller than kernel
        XCTAssertThrowsError(try Ops.conv2d(Tensor(zeros: [1, 4, 1, 1]), Conv2dParams(weight: w)))
        XCTAssertThrowsError(
            try Ops.conv2d(Tensor(zeros: [1, 4, 8, 8]), Conv2dParams(weight: w, bias: Tensor(zeros: [5]))))
        XCTAssertThrowsError(try Ops.conv2d(Tensor(zeros: [1, 4, 8, 8]), Conv2dParams(weight: w, groups: 4)))
        XCTAssertThrowsError(try Ops.conv2dBackwardData(Tensor(zeros: [1, 6, 7, 7]), p, inputShape: [1, 4, 8, 8]))
        XCTAssertThrowsError(
            try Ops.conv2dBackwardWeights(Tensor(zeros: [1, 5, 8, 8]), input: Tensor(zeros: [1, 4, 8, 8]), p))
    }
}

/// Concurrent callers share cached primitives safely and still match PyTorch.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentConvForwardAndBackward() throws {
        let f = try Fixture.load("conv_3x3_s1_p1")
        let p = Conv2dParams(weight: try f.t("w"), bias: f.tensors["b"], stride: 1, padding: 1)
        let x = try f.t("x"), gy = try f.t("gy"), y = try f.t("y"), gx = try f.t("gx")
        var results = [(Tensor, Tensor)?](repeating: nil, count: 8)
        let lock = NSLock()
        // The engine's parallelForEach runs the 8 calls on all cores at once, as concurrentPerform does.
        parallelForEach(8) { i in
            let outputs = (try? Ops.conv2d(x, p), try? Ops.conv2dBackwardData(gy, p, inputShape: x.shape))
            lock.lock()
            if let forward = outputs.0, let backward = outputs.1 { results[i] = (forward, backward) }
            lock.unlock()
        }
        for r in results {
            let (a, b) = try XCTUnwrap(r)
            assertClose(a, y, "concurrent forward")
            assertClose(b, gx, "concurrent grad input")
        }
    }
}
