/// Per-channel and element-wise glue (BatchNorm in inference mode, ReLU, ReLU6, add, flatten).
extension Ops {
    /// y[n,c] = x[n,c] * scale[c] + shift[c] over each plane; parallel over planes.
    static func channelAffine(_ x: Tensor, scale: [Float], shift: [Float]?) -> Tensor {
        guard x.count > 0 else { return x }
        let n = x.shape[0], c = x.shape[1], hw = x.count / (n * c)
        return x.data.withUnsafeBufferPointer { xp in
            Tensor(shape: x.shape) { yp in
                let source = xp.baseAddress!, destination = yp.baseAddress!
                parallelChunks(n * c, grain: max(1, 16384 / max(hw, 1))) { r in
                    for plane in r {
                        let ch = plane % c, s = scale[ch], t = shift?[ch] ?? 0
                        let src = source + plane * hw, dst = destination + plane * hw
                        for j in 0..<hw { dst[j] = src[j] * s + t }
                    }
                }
            }
        }
    }

    static func checkBatchNorm(_ x: Tensor, _ params: BatchNormParams, _ what: String) throws {
        let (_, c, _, _) = try x.expectRank4(what)
        guard [params.gamma.count, params.beta.count, params.mean.count, params.variance.count].allSatisfy({ $0 == c })
        else {
            throw EngineError.invalid(
                "\(what): \(c) channels but batch-norm parameters have"
                    + " \(params.gamma.count)/\(params.beta.count)/\(params.mean.count)/\(params.variance.count)"
            )
        }
    }

    /// BatchNorm2d in inference mode: (x - mean) / sqrt(var + eps) * gamma + beta.
    public static func batchNorm(_ x: Tensor, _ params: BatchNormParams) throws -> Tensor {
        try checkBatchNorm(x, params, "batchNorm input")
        guard x.count > 0 else { return x }
        let (s, t) = params.scaleShift
        return channelAffine(x, scale: s, shift: t)
    }

    /// dL/dx of inference-mode BatchNorm2d: gradient times the per-channel scale.
    public static func batchNormBackward(_ gradOutput: Tensor, _ params: BatchNormParams) throws -> Tensor {
        try checkBatchNorm(gradOutput, params, "batchNorm output gradient")
        guard gradOutput.count > 0 else { return gradOutput }
        return channelAffine(gradOutput, scale: params.scaleShift.scale, shift: nil)
    }

    /// Clamps to [0, hi] in parallel chunks (plain compare/select loops so they vectorise).
    static func clamp(_ x: Tensor, hi: Float) -> Tensor {
        guard x.count > 0 else { return x }
        return x.data.withUnsafeBufferPointer { xp in
            Tensor(shape: x.shape) { yp in
                let source = xp.baseAddress!, destination = yp.baseAddress!
                parallelChunks(x.count, grain: 1 << 16) { r in
                    for i in r {
                        let v = source[i]
                        let a = v > 0 ? v : 0
                        destination[i] = a < hi ? a : hi
                    }
                }
            }
        }
    }

    public static func relu(_ x: Tensor) -> Tensor { clamp(x, hi: .infinity) }
    public static func relu6(_ x: Tensor) -> Tensor { clamp(x, hi: 6) }

    /// Gradient gated by where the forward output was strictly inside (0, hi); guided keeps only positive gradients.
    /// The loops have no branches (compares and selects, one loop per mode) so that they vectorise: this runs over
    /// every activation of a training step's backward pass.
    static func gate(_ g: Tensor, output y: Tensor, hi: Float, guided: Bool, _ what: String) throws -> Tensor {
        try g.expectShape(y.shape, what)
        guard g.count > 0 else { return g }
        return g.data.withUnsafeBufferPointer { gp in
            y.data.withUnsafeBufferPointer { yp in
                Tensor(shape: g.shape) { xp in
                    let gradient = gp.baseAddress!, output = yp.baseAddress!, result = xp.baseAddress!
                    parallelChunks(g.count, grain: 1 << 16) { r in
                        if guided {
                            for i in r {
                                let v = output[i], d = gradient[i]
                                result[i] = v > 0 && v < hi && d > 0 ? d : 0
                            }
                        } else {
                            for i in r {
                                let v = output[i], d = gradient[i]
                                result[i] = v > 0 && v < hi ? d : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// dL/dx of ReLU from its output (y > 0 exactly where x > 0). Guided: also zero negative gradients.
    public static func reluBackward(_ gradOutput: Tensor, output: Tensor, guided: Bool = false) throws -> Tensor {
        try gate(gradOutput, output: output, hi: .infinity, guided: guided, "relu output gradient")
    }

    /// dL/dx of ReLU6 (gradient flows where 0 < x < 6, as PyTorch's hardtanh). Guided: also zero negative gradients.
    public static func relu6Backward(_ gradOutput: Tensor, output: Tensor, guided: Bool = false) throws -> Tensor {
        try gate(gradOutput, output: output, hi: 6, guided: guided, "relu6 output gradient")
    }

    /// Residual sum of two same-shaped tensors.
    public static func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try b.expectShape(a.shape, "add: second operand")
        var y = a
        y.data.withUnsafeMutableBufferPointer { yp in
            b.data.withUnsafeBufferPointer { bp in
                let yb = yp.baseAddress
                parallelChunks(a.count, grain: 1 << 16) { r in for i in r { yb![i] += bp[i] } }
            }
        }
        return y
    }

    /// [N, ...] -> [N, rest].
    public static func flatten(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1 else {
            throw EngineError.invalid("flatten: needs at least a batch dimension, got shape \(x.shape)")
        }
        return x.reshaped([x.shape[0], x.shape[0] == 0 ? 0 : x.count / x.shape[0]])
    }
}
