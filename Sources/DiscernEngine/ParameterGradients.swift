/// Gradients of a node's own parameters: convolution weight/bias, BatchNorm gamma/beta
/// (as PyTorch's `weight`/`bias`), linear weight/bias. Activations, pooling and sums have none.
public struct ParameterGradient: Sendable {
    public let weight: Tensor
    public let bias: Tensor?
}

extension Op {
    /// Whether the op owns trainable parameters.
    public var hasParameters: Bool {
        switch self {
        case .conv2d, .batchNorm, .linear: return true
        default: return false
        }
    }
}

extension Graph {
    /// Replaces the op of node `id` with one of the same kind (new parameter values).
    public mutating func replaceOp(_ id: Int, _ op: Op) throws {
        guard id >= 0, id < nodes.count else { throw EngineError.invalid("Graph.replaceOp: no node \(id)") }
        switch (nodes[id].op, op) {
        case (.conv2d, .conv2d), (.batchNorm, .batchNorm), (.linear, .linear): setOp(id, op)
        default: throw EngineError.invalid("Graph.replaceOp: node \(id) holds a different kind of op")
        }
    }
}

extension Ops {
    /// dL/dgamma and dL/dbeta of inference-mode BatchNorm2d (running statistics frozen):
    /// dgamma[c] = Σ g·(x − mean[c]) / √(var[c] + eps), dbeta[c] = Σ g, over batch and plane.
    public static func batchNormBackwardParameters(_ gradOutput: Tensor, input x: Tensor,
                                                   _ params: BatchNormParams) throws -> ParameterGradient {
        try checkBatchNorm(x, params, "batchNorm input")
        try gradOutput.expectShape(x.shape, "batchNorm output gradient")
        let n = x.shape[0], c = x.shape[1], hw = x.count / max(1, n * c)
        var gamma = [Float](repeating: 0, count: c), beta = gamma
        gradOutput.data.withUnsafeBufferPointer { gp in
            x.data.withUnsafeBufferPointer { xp in
                gamma.withUnsafeMutableBufferPointer { gammaOut in
                    beta.withUnsafeMutableBufferPointer { betaOut in
                        let gammaBase = gammaOut.baseAddress!, betaBase = betaOut.baseAddress!
                        // Per channel in double: sums over up to a million values.
                        parallelChunks(c, grain: max(1, 16384 / max(n * hw, 1))) { channels in
                            for ch in channels {
                                let mean = params.mean[ch]
                                var weighted = 0.0, plain = 0.0
                                for item in 0..<n {
                                    let offset = (item * c + ch) * hw
                                    let row = planeSums(gp.baseAddress! + offset, xp.baseAddress! + offset,
                                                        count: hw, mean: mean)
                                    weighted += Double(row.weighted)
                                    plain += Double(row.plain)
                                }
                                gammaBase[ch] = Float(weighted / Double(params.variance[ch] + params.eps).squareRoot())
                                betaBase[ch] = Float(plain)
                            }
                        }
                    }
                }
            }
        }
        return ParameterGradient(weight: Tensor(shape: [c], data: gamma), bias: Tensor(shape: [c], data: beta))
    }

    /// Σ g·(x − mean) and Σ g over one plane, in eight lanes: a single running sum would wait on each addition
    /// (float additions are not reassociated for us), and this runs over every activation of a training step.
    @inline(__always)
    static func planeSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float)
        -> (weighted: Float, plain: Float)
    {
        var weightedLanes = SIMD8<Float>(), plainLanes = SIMD8<Float>()
        let means = SIMD8<Float>(repeating: mean)
        var j = 0
        while j + 8 <= count {
            let gradients = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
            let inputs = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            weightedLanes += gradients * (inputs - means)
            plainLanes += gradients
            j += 8
        }
        var weighted = weightedLanes.sum(), plain = plainLanes.sum()
        while j < count {
            weighted += g[j] * (x[j] - mean)
            plain += g[j]
            j += 1
        }
        return (weighted, plain)
    }
}
