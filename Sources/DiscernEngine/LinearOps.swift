import COpenBLAS

/// C = alpha * op(A) * op(B) + beta * C, row-major (OpenBLAS cblas_sgemm).
/// op(A) is m x k, op(B) is k x n; lda/ldb/ldc are the row strides of the stored matrices.
public func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    _ = BLASThreads.callingThreadOnly
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

extension Ops {
    static func checkLinear(_ x: Tensor, _ params: LinearParams) throws {
        guard x.rank == 2 else {
            throw EngineError.invalid("linear: expected an [N, features] input, got shape \(x.shape)")
        }
        guard x.shape[1] == params.inFeatures else {
            throw EngineError.invalid(
                "linear: input has \(x.shape[1]) features, weight \(params.weight.shape) expects \(params.inFeatures)")
        }
        try params.bias.expectShape([params.outFeatures], "linear bias")
    }

    /// y = x W^T + b with W in PyTorch's [out, in] layout.
    public static func linear(_ x: Tensor, _ params: LinearParams) throws -> Tensor {
        try checkLinear(x, params)
        let n = x.shape[0], i = params.inFeatures, o = params.outFeatures
        var y = Tensor(zeros: [n, o])
        for row in 0..<n { for j in 0..<o { y.data[row * o + j] = params.bias.data[j] } }
        guard n > 0, o > 0, i > 0 else { return y }
        x.data.withUnsafeBufferPointer { xp in
            params.weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    gemm(transB: true, m: n, n: o, k: i, a: xp.baseAddress!, lda: i, b: wp.baseAddress!, ldb: i,
                         beta: 1, c: yp.baseAddress!, ldc: o)
                }
            }
        }
        return y
    }

    /// dL/dx = dL/dy W.
    public static func linearBackwardInput(_ gradOutput: Tensor, _ params: LinearParams) throws -> Tensor {
        guard gradOutput.rank == 2, gradOutput.shape[1] == params.outFeatures else {
            throw EngineError.shapeMismatch(
                what: "linear output gradient", expected: [gradOutput.shape.first ?? 0, params.outFeatures],
                actual: gradOutput.shape)
        }
        let n = gradOutput.shape[0], i = params.inFeatures, o = params.outFeatures
        var gx = Tensor(zeros: [n, i])
        guard n > 0, o > 0, i > 0 else { return gx }
        gradOutput.data.withUnsafeBufferPointer { gp in
            params.weight.data.withUnsafeBufferPointer { wp in
                gx.data.withUnsafeMutableBufferPointer { xp in
                    gemm(
                        m: n, n: i, k: o, a: gp.baseAddress!, lda: o, b: wp.baseAddress!, ldb: i, c: xp.baseAddress!,
                        ldc: i)
                }
            }
        }
        return gx
    }

    /// Gradients of y = x W^T + b w.r.t. the input, the weight (dy^T x) and the bias (sum of dy over the batch).
    public static func linearBackward(_ gradOutput: Tensor, input x: Tensor, _ params: LinearParams) throws -> (
        input: Tensor, weight: Tensor, bias: Tensor
    ) {
        let parameters = try linearBackwardParameters(gradOutput, input: x, params)
        return (try linearBackwardInput(gradOutput, params), parameters.weight, parameters.bias)
    }

    /// The weight (dy^T x) and bias (sum of dy over the batch) gradients alone: what a head trained on fixed
    /// features needs.
    public static func linearBackwardParameters(_ gradOutput: Tensor, input x: Tensor, _ params: LinearParams) throws
        -> (weight: Tensor, bias: Tensor)
    {
        try checkLinear(x, params)
        try gradOutput.expectShape([x.shape[0], params.outFeatures], "linear output gradient")
        let n = x.shape[0], i = params.inFeatures, o = params.outFeatures
        var gw = Tensor(zeros: [o, i])
        if n > 0, o > 0, i > 0 {
            gradOutput.data.withUnsafeBufferPointer { gp in
                x.data.withUnsafeBufferPointer { xp in
                    gw.data.withUnsafeMutableBufferPointer { wp in
                        gemm(
                            transA: true, m: o, n: i, k: n, a: gp.baseAddress!, lda: o, b: xp.baseAddress!, ldb: i,
                            c: wp.baseAddress!, ldc: i)
                    }
                }
            }
        }
        var biasSum = [Float](repeating: 0, count: o)
        for row in 0..<n { for j in 0..<o { biasSum[j] += gradOutput.data[row * o + j] } }
        return (gw, Tensor(shape: [o], data: biasSum))
    }
}
