import COneDNN

/// Everything that selects a convolution primitive.
struct ConvKey: Hashable {
    enum Kind: UInt8 { case forward, backwardData, backwardWeights }
    var kind: Kind
    var n: Int, ic: Int, ih: Int, iw: Int, oc: Int, oh: Int, ow: Int
    var kh: Int, kw: Int, sh: Int, sw: Int
    var pt: Int, pl: Int, pb: Int, pr: Int
    var groups: Int, bias: Bool
    /// Plain layouts even where `blockedTag` would block them: oneDNN has no jit kernel for that blocked case.
    var plain = false

    init(_ kind: Kind, _ x: [Int], _ params: Conv2dParams, oh: Int, ow: Int) {
        self.kind = kind
        n = x[0]
        ic = x[1]
        ih = x[2]
        iw = x[3]
        oc = params.outChannels
        self.oh = oh
        self.ow = ow
        kh = params.kernel.h
        kw = params.kernel.w
        sh = params.stride.h
        sw = params.stride.w
        pt = params.padTop
        pl = params.padLeft
        pb = params.padBottom
        pr = params.padRight
        groups = params.groups
        bias = params.bias != nil
    }
    func with(_ k: Kind) -> ConvKey {
        var c = self
        c.kind = k
        return c
    }

    /// Depthwise convolutions get oneDNN's jit_dw kernels only on the CPU's blocked layout; on plain NCHW they
    /// fall to its GEMM-based convolution, several times slower. The tensors stay NCHW and are reordered around
    /// such a primitive (`executeReordering`); nil: the primitive takes the plain layouts.
    var blockedTag: dnnl_format_tag_t? {
        !plain && groups > 1 && groups == ic && groups == oc ? CPUKernels.blockedTag(channels: ic) : nil
    }

    var srcDims: [Int] { [n, ic, ih, iw] }
    var dstDims: [Int] { [n, oc, oh, ow] }
    var weightDims: [Int] { groups == 1 ? [oc, ic, kh, kw] : [groups, oc / groups, ic / groups, kh, kw] }

    /// The caller's layouts: NCHW activations, OIHW (GOIHW) weights.
    var srcMD: dnnl_memory_desc_t { get throws { try DNNL.memoryDescriptor(srcDims, dnnl_f32, dnnl_nchw) } }
    var dstMD: dnnl_memory_desc_t { get throws { try DNNL.memoryDescriptor(dstDims, dnnl_f32, dnnl_nchw) } }
    var weightMD: dnnl_memory_desc_t {
        get throws { try DNNL.memoryDescriptor(weightDims, dnnl_f32, groups == 1 ? dnnl_oihw : dnnl_goihw) }
    }

    /// What the primitive is created with: the blocked layout for activations and oneDNN's choice of weights
    /// layout where `blockedTag` is set, else the caller's.
    var primitiveSrcMD: dnnl_memory_desc_t {
        get throws { try blockedTag.map { try DNNL.memoryDescriptor(srcDims, dnnl_f32, $0) } ?? srcMD }
    }
    var primitiveDstMD: dnnl_memory_desc_t {
        get throws { try blockedTag.map { try DNNL.memoryDescriptor(dstDims, dnnl_f32, $0) } ?? dstMD }
    }
    var primitiveWeightMD: dnnl_memory_desc_t {
        get throws {
            blockedTag == nil ? try weightMD : try DNNL.memoryDescriptor(weightDims, dnnl_f32, dnnl_format_tag_any)
        }
    }
    var biasMD: dnnl_memory_desc_t { get throws { try DNNL.memoryDescriptor([oc], dnnl_f32, dnnl_x) } }
}

private let convCache = PrimitiveCache<ConvKey>()

/// The (cached) primitive for `key`; backward ones are created with the forward one as hint. A blocked one that
/// only oneDNN's reference loops implement (its depthwise backward-weights kernel takes no 5x5 kernel on small maps)
/// is replaced by the plain-layout primitive, which runs its GEMM-based convolution.
private func convPrimitive(_ key: ConvKey) throws -> DNNLPrimitive {
    try convCache.get(key) {
        let hint = key.kind == .forward ? nil : try convPrimitive(key.with(.forward))
        guard key.blockedTag != nil else { return try makeConvPrimitive(key, hint: hint) }
        // Recorded only when kept, so that a replaced reference primitive raises no fallback warning.
        let blocked = try KernelLog.unrecorded { try makeConvPrimitive(key, hint: hint) }
        if !KernelLog.isReference(blocked.pd) {
            KernelLog.shared.record(blocked.pd)
            return blocked
        }
        var plainKey = key
        plainKey.plain = true
        return try convPrimitive(plainKey)
    }
}

private func makeConvPrimitive(_ key: ConvKey, hint: DNNLPrimitive?) throws -> DNNLPrimitive {
    var desc = dnnl_convolution_desc_t()
    let strides = DNNL.dims([key.sh, key.sw]), pl = DNNL.dims([key.pt, key.pl]), pr = DNNL.dims([key.pb, key.pr])
    var src = try key.primitiveSrcMD, dst = try key.primitiveDstMD, w = try key.primitiveWeightMD
    var b = key.bias ? try key.biasMD : dnnl_memory_desc_t()
    switch key.kind {
    case .forward:
        try dnnlCheck(
            dnnl_convolution_forward_desc_init(
                &desc, dnnl_forward_training, dnnl_convolution_direct,
                &src, &w, &b, &dst, strides, pl, pr), "conv2d forward descriptor")
        return try DNNLPrimitive(operation: &desc, hint: nil, what: "conv2d forward")
    case .backwardData:
        try dnnlCheck(dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &src, &w, &dst,
                                                               strides, pl, pr), "conv2d backward-data descriptor")
        return try DNNLPrimitive(operation: &desc, hint: hint, what: "conv2d backward data")
    case .backwardWeights:
        try dnnlCheck(
            dnnl_convolution_backward_weights_desc_init(
                &desc, dnnl_convolution_direct, &src, &w, &b, &dst,
                strides, pl, pr), "conv2d backward-weights descriptor")
        return try DNNLPrimitive(operation: &desc, hint: hint, what: "conv2d backward weights")
    }
}

extension Ops {
    /// Validates input/params and returns the output spatial size.
    static func convOutputSize(_ xShape: [Int], _ params: Conv2dParams) throws -> (oh: Int, ow: Int) {
        guard xShape.count == 4 else {
            throw EngineError.invalid("conv2d: expected an NCHW (4-D) input, got shape \(xShape)")
        }
        guard xShape.allSatisfy({ $0 > 0 }), params.weight.shape.allSatisfy({ $0 > 0 }) else {
            throw EngineError.invalid("conv2d: empty input \(xShape) or weight \(params.weight.shape)")
        }
        guard params.groups >= 1, params.outChannels % params.groups == 0 else {
            throw EngineError.invalid(
                "conv2d: \(params.outChannels) output channels not divisible by groups \(params.groups)")
        }
        guard xShape[1] == params.inChannels else {
            throw EngineError.invalid(
                "conv2d: input has \(xShape[1]) channels, weight \(params.weight.shape) with groups \(params.groups)"
                    + " expects \(params.inChannels)"
            )
        }
        if let b = params.bias, b.count != params.outChannels {
            throw EngineError.shapeMismatch(what: "conv2d bias", expected: [params.outChannels], actual: b.shape)
        }
        guard params.stride.h > 0, params.stride.w > 0,
            min(params.padTop, params.padLeft, params.padBottom, params.padRight) >= 0
        else {
            throw EngineError.invalid("conv2d: stride must be positive and padding non-negative")
        }
        let oh = (xShape[2] + params.padTop + params.padBottom - params.kernel.h) / params.stride.h + 1
        let ow = (xShape[3] + params.padLeft + params.padRight - params.kernel.w) / params.stride.w + 1
        guard xShape[2] + params.padTop + params.padBottom >= params.kernel.h,
            xShape[3] + params.padLeft + params.padRight >= params.kernel.w,
            oh > 0, ow > 0
        else {
            throw EngineError.invalid(
                "conv2d: input \(xShape) is smaller than the \(params.kernel.h)x\(params.kernel.w) kernel")
        }
        return (oh, ow)
    }

    /// The oneDNN implementations of a convolution's forward, backward-data and backward-weights primitives, for
    /// tests that pin which kernels the autograd executor's layouts reach.
    static func conv2dImplementations(inputShape: [Int], _ params: Conv2dParams) throws -> [String] {
        let (oh, ow) = try convOutputSize(inputShape, params)
        return try [ConvKey.Kind.forward, .backwardData, .backwardWeights].map { kind in
            KernelLog.implementation(try convPrimitive(ConvKey(kind, inputShape, params, oh: oh, ow: ow)).pd)
        }
    }

    /// y = conv(x, W) + b, NCHW/OIHW, any stride, (asymmetric) padding and groups.
    public static func conv2d(_ x: Tensor, _ params: Conv2dParams) throws -> Tensor {
        let (oh, ow) = try convOutputSize(x.shape, params)
        let key = ConvKey(.forward, x.shape, params, oh: oh, ow: ow)
        let prim = try convPrimitive(key)
        let bias = params.bias?.data ?? []
        // oneDNN writes every output value, so the output is not zeroed first (as for the input gradient below).
        return try Tensor(shape: [x.shape[0], params.outChannels, oh, ow]) { yp in
            try x.data.withUnsafeBufferPointer { xp in
                try params.weight.data.withUnsafeBufferPointer { wp in
                    try bias.withUnsafeBufferPointer { bp in
                        var inputs = [(DNNL_ARG_SRC, try key.srcMD, mutableRaw(xp)),
                                      (DNNL_ARG_WEIGHTS, try key.weightMD, mutableRaw(wp))]
                        if key.bias { inputs.append((DNNL_ARG_BIAS, try key.biasMD, mutableRaw(bp))) }
                        try executeReordering(prim, key, inputs: inputs,
                                              outputs: [(DNNL_ARG_DST, try key.dstMD,
                                                         UnsafeMutableRawPointer(yp.baseAddress!))],
                                              what: "conv2d forward")
                    }
                }
            }
        }
    }

    /// dL/dx of a convolution given dL/dy (oneDNN convolution_backward_data).
    public static func conv2dBackwardData(_ gradOutput: Tensor, _ params: Conv2dParams, inputShape: [Int]) throws
        -> Tensor
    {
        let (oh, ow) = try convOutputSize(inputShape, params)
        try gradOutput.expectShape([inputShape[0], params.outChannels, oh, ow], "conv2d output gradient")
        let key = ConvKey(.backwardData, inputShape, params, oh: oh, ow: ow)
        let prim = try convPrimitive(key)
        return try Tensor(shape: inputShape) { xp in
            try gradOutput.data.withUnsafeBufferPointer { gp in
                try params.weight.data.withUnsafeBufferPointer { wp in
                    try executeReordering(prim, key,
                                          inputs: [(DNNL_ARG_DIFF_DST, try key.dstMD, mutableRaw(gp)),
                                                   (DNNL_ARG_WEIGHTS, try key.weightMD, mutableRaw(wp))],
                                          outputs: [(DNNL_ARG_DIFF_SRC, try key.srcMD,
                                                     UnsafeMutableRawPointer(xp.baseAddress!))],
                                          what: "conv2d backward data")
                }
            }
        }
    }

    /// dL/dW and dL/db (nil without bias) of a convolution (oneDNN convolution_backward_weights).
    public static func conv2dBackwardWeights(_ gradOutput: Tensor, input x: Tensor, _ params: Conv2dParams) throws -> (
        weight: Tensor, bias: Tensor?
    ) {
        let (oh, ow) = try convOutputSize(x.shape, params)
        try gradOutput.expectShape([x.shape[0], params.outChannels, oh, ow], "conv2d output gradient")
        let key = ConvKey(.backwardWeights, x.shape, params, oh: oh, ow: ow)
        let prim = try convPrimitive(key)
        var gw = Tensor(zeros: params.weight.shape)
        var gb = Tensor(zeros: key.bias ? [params.outChannels] : [0])
        try gradOutput.data.withUnsafeBufferPointer { gp in
            try x.data.withUnsafeBufferPointer { xp in
                try gw.data.withUnsafeMutableBufferPointer { wp in
                    try gb.data.withUnsafeMutableBufferPointer { bp in
                        var outputs = [
                            (DNNL_ARG_DIFF_WEIGHTS, try key.weightMD, UnsafeMutableRawPointer(wp.baseAddress!))
                        ]
                        if key.bias {
                            outputs.append((DNNL_ARG_DIFF_BIAS, try key.biasMD,
                                            UnsafeMutableRawPointer(bp.baseAddress!)))
                        }
                        try executeReordering(prim, key,
                                              inputs: [(DNNL_ARG_DIFF_DST, try key.dstMD, mutableRaw(gp)),
                                                       (DNNL_ARG_SRC, try key.srcMD, mutableRaw(xp))],
                                              outputs: outputs, what: "conv2d backward weights")
                    }
                }
            }
        }
        return (gw, key.bias ? gb : nil)
    }
}
