import COneDNN

struct PoolKey: Hashable {
    var backward: Bool
    var n: Int, c: Int, ih: Int, iw: Int, oh: Int, ow: Int
    var kernel: Int, stride: Int, padding: Int
    var srcMD: dnnl_memory_desc_t { get throws { try DNNL.memoryDescriptor([n, c, ih, iw], dnnl_f32, dnnl_nchw) } }
    var dstMD: dnnl_memory_desc_t { get throws { try DNNL.memoryDescriptor([n, c, oh, ow], dnnl_f32, dnnl_nchw) } }
}

private let poolCache = PrimitiveCache<PoolKey>()

private func poolPrimitive(_ key: PoolKey) throws -> DNNLPrimitive {
    try poolCache.get(key) {
        var desc = dnnl_pooling_desc_t()
        var src = try key.srcMD, dst = try key.dstMD
        let strides = DNNL.dims([key.stride, key.stride])
        let window = DNNL.dims([key.kernel, key.kernel])
        let padding = DNNL.dims([key.padding, key.padding])
        if key.backward {
            var fwd = key
            fwd.backward = false
            let hint = try poolPrimitive(fwd)
            try dnnlCheck(
                dnnl_pooling_backward_desc_init(&desc, dnnl_pooling_max, &src, &dst, strides, window, padding, padding),
                "max-pool backward descriptor")
            return try DNNLPrimitive(operation: &desc, hint: hint, what: "max-pool backward")
        }
        try dnnlCheck(
            dnnl_pooling_forward_desc_init(
                &desc, dnnl_forward_training, dnnl_pooling_max, &src, &dst, strides, window, padding, padding),
            "max-pool forward descriptor")
        return try DNNLPrimitive(operation: &desc, hint: nil, what: "max-pool forward")
    }
}

/// What max-pool backward needs: where each maximum came from (oneDNN's workspace).
public struct MaxPoolWorkspace: Sendable {
    public let inputShape: [Int]
    public let params: PoolParams
    let bytes: [UInt8]
}

extension Ops {
    static func poolKey(_ xShape: [Int], _ params: PoolParams, backward: Bool) throws -> PoolKey {
        guard xShape.count == 4, xShape.allSatisfy({ $0 > 0 }) else {
            throw EngineError.invalid("maxPool2d: expected a non-empty NCHW (4-D) input, got shape \(xShape)")
        }
        guard params.kernel > 0, params.stride > 0, params.padding >= 0, params.padding * 2 <= params.kernel else {
            throw EngineError.invalid(
                "maxPool2d: bad kernel \(params.kernel) / stride \(params.stride) / padding \(params.padding)")
        }
        let oh = (xShape[2] + 2 * params.padding - params.kernel) / params.stride + 1
        let ow = (xShape[3] + 2 * params.padding - params.kernel) / params.stride + 1
        guard xShape[2] + 2 * params.padding >= params.kernel, xShape[3] + 2 * params.padding >= params.kernel else {
            throw EngineError.invalid(
                "maxPool2d: input \(xShape) is smaller than the \(params.kernel)x\(params.kernel) window")
        }
        return PoolKey(backward: backward, n: xShape[0], c: xShape[1], ih: xShape[2], iw: xShape[3], oh: oh, ow: ow,
                       kernel: params.kernel, stride: params.stride, padding: params.padding)
    }

    /// Max pooling (PyTorch MaxPool2d semantics: padding never wins, floor mode).
    public static func maxPool2d(_ x: Tensor, _ params: PoolParams) throws -> Tensor {
        try maxPool2dWithWorkspace(x, params).output
    }

    /// Max pooling that also returns what `maxPool2dBackward` needs.
    public static func maxPool2dWithWorkspace(_ x: Tensor, _ params: PoolParams) throws -> (
        output: Tensor, workspace: MaxPoolWorkspace
    ) {
        let key = try poolKey(x.shape, params, backward: false)
        let prim = try poolPrimitive(key)
        var y = Tensor(zeros: [key.n, key.c, key.oh, key.ow])
        let wsMD = prim.memoryDescriptor(dnnl_query_workspace_md) ?? dnnl_memory_desc_t()
        var ws = [UInt8](repeating: 0, count: max(1, dnnl_memory_desc_get_size([wsMD])))
        try x.data.withUnsafeBufferPointer { xp in
            try y.data.withUnsafeMutableBufferPointer { yp in
                try ws.withUnsafeMutableBytes { wp in
                    try prim.execute(buffers: [(DNNL_ARG_SRC, try key.srcMD, mutableRaw(xp)),
                                      (DNNL_ARG_DST, try key.dstMD, UnsafeMutableRawPointer(yp.baseAddress!)),
                                      (DNNL_ARG_WORKSPACE, wsMD, wp.baseAddress!)], what: "max-pool forward")
                }
            }
        }
        return (y, MaxPoolWorkspace(inputShape: x.shape, params: params, bytes: ws))
    }

    /// dL/dx of max pooling: each output gradient goes to the position of its maximum.
    public static func maxPool2dBackward(_ gradOutput: Tensor, _ ws: MaxPoolWorkspace) throws -> Tensor {
        let key = try poolKey(ws.inputShape, ws.params, backward: true)
        try gradOutput.expectShape([key.n, key.c, key.oh, key.ow], "max-pool output gradient")
        var fwdKey = key
        fwdKey.backward = false
        let wsMD = try poolPrimitive(fwdKey).memoryDescriptor(dnnl_query_workspace_md) ?? dnnl_memory_desc_t()
        let prim = try poolPrimitive(key)
        var gx = Tensor(zeros: ws.inputShape)
        try gradOutput.data.withUnsafeBufferPointer { gp in
            try gx.data.withUnsafeMutableBufferPointer { xp in
                try ws.bytes.withUnsafeBytes { wp in
                    try prim.execute(buffers: [(DNNL_ARG_DIFF_DST, try key.dstMD, mutableRaw(gp)),
                                      (DNNL_ARG_DIFF_SRC, try key.srcMD, UnsafeMutableRawPointer(xp.baseAddress!)),
                                      (DNNL_ARG_WORKSPACE, wsMD, UnsafeMutableRawPointer(mutating: wp.baseAddress!))],
                                     what: "max-pool backward")
                }
            }
        }
        return gx
    }

    /// Global average pooling [N,C,H,W] -> [N,C,1,1].
    public static func globalAvgPool(_ x: Tensor) throws -> Tensor {
        let (n, c, h, w) = try x.expectRank4("globalAvgPool input")
        let hw = h * w
        guard hw > 0 else { throw EngineError.invalid("globalAvgPool: empty spatial size in \(x.shape)") }
        var y = Tensor(zeros: [n, c, 1, 1])
        let inv = 1 / Float(hw)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let yb = yp.baseAddress!
                parallelChunks(n * c, grain: max(1, 16384 / hw)) { r in
                    for i in r {
                        var s: Float = 0
                        let base = xp.baseAddress! + i * hw
                        for j in 0..<hw { s += base[j] }
                        yb[i] = s * inv
                    }
                }
            }
        }
        return y
    }

    /// dL/dx of global average pooling: each input gets its plane's gradient / (H*W).
    public static func globalAvgPoolBackward(_ gradOutput: Tensor, inputShape: [Int]) throws -> Tensor {
        guard inputShape.count == 4, inputShape[2] * inputShape[3] > 0 else {
            throw EngineError.invalid("globalAvgPool backward: bad input shape \(inputShape)")
        }
        let n = inputShape[0], c = inputShape[1], hw = inputShape[2] * inputShape[3]
        guard gradOutput.count == n * c, gradOutput.shape.first == n else {
            throw EngineError.shapeMismatch(
                what: "globalAvgPool output gradient", expected: [n, c, 1, 1], actual: gradOutput.shape)
        }
        var gx = Tensor(zeros: inputShape)
        let inv = 1 / Float(hw)
        gradOutput.data.withUnsafeBufferPointer { gp in
            gx.data.withUnsafeMutableBufferPointer { xp in
                let xb = xp.baseAddress!
                parallelChunks(n * c, grain: max(1, 16384 / hw)) { r in
                    for i in r {
                        let v = gp[i] * inv
                        let base = xb + i * hw
                        for j in 0..<hw { base[j] = v }
                    }
                }
            }
        }
        return gx
    }
}
