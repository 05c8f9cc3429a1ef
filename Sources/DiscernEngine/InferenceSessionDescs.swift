import Foundation
import COneDNN

/// Convolution / pooling primitive descriptors and the once-per-session weight reorders.
enum SessionConvDesc {
    static func weightDims(_ conv: FusedConv) -> [Int] {
        conv.groups == 1 ? [conv.outChannels, conv.inChannels, conv.kernel.h, conv.kernel.w]
            : [conv.groups, conv.outChannels / conv.groups, conv.inChannels / conv.groups, conv.kernel.h,
               conv.kernel.w]
    }

    /// nil when oneDNN has no implementation for these layouts.
    static func create(_ conv: FusedConv, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, dt: dnnl_data_type_t,
                       algorithm: ConvolutionAlgorithm) throws -> dnnl_primitive_desc_t? {
        if algorithm == .winograd, conv.kernel == (3, 3), conv.stride == (1, 1), conv.groups == 1,
           let pd = try create(conv, src: src, dst: dst, dt: dt, alg: dnnl_convolution_winograd) {
            return pd
        }
        return try create(conv, src: src, dst: dst, dt: dt, alg: dnnl_convolution_direct)
    }

    static func create(_ conv: FusedConv, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, dt: dnnl_data_type_t,
                       alg: dnnl_alg_kind_t) throws -> dnnl_primitive_desc_t? {
        var source = src
        var destination = dst
        var weights = try DNNL.memoryDescriptor(weightDims(conv), dt, dnnl_format_tag_any)
        var bias = try DNNL.memoryDescriptor([conv.outChannels], dnnl_f32, dnnl_a)
        var strides = DNNL.dims([conv.stride.h, conv.stride.w])
        var padLeft = DNNL.dims([conv.padTop, conv.padLeft])
        var padRight = DNNL.dims([conv.padBottom, conv.padRight])
        var desc = dnnl_convolution_desc_t()
        let descStatus = dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, alg, &source, &weights,
                                                            &bias, &destination, &strides, &padLeft, &padRight)
        if descStatus == dnnl_unimplemented { return nil }
        try dnnlCheck(descStatus, "convolution desc")
        let attributes = try DNNL.attributes(sum: conv.residual != nil, activation: conv.activation)
        defer { dnnl_primitive_attr_destroy(attributes) }
        var pd: dnnl_primitive_desc_t?
        let status = dnnl_primitive_desc_create(&pd, &desc, attributes, DNNLContext.shared.engine, nil)
        if status == dnnl_unimplemented { return nil }
        try dnnlCheck(status, "convolution primitive desc")
        return pd
    }

    /// The activation layout asked of oneDNN: the blocked layout of this CPU's jit kernels where
    /// the block divides the channels (16 on AVX-512, 8 on AVX/AVX2; its 1x1 and Winograd kernels
    /// then chain without reorders, measured 5-20% faster on AVX-512 than oneDNN's free nhwc/brgemm
    /// choice), else oneDNN's own choice. `.any` always leaves the choice to oneDNN.
    static func preferredTag(channels: Int, layout: ActivationLayout) -> dnnl_format_tag_t {
        layout == .blocked ? CPUKernels.blockedTag(channels: channels) ?? dnnl_format_tag_any : dnnl_format_tag_any
    }

    /// Prefers the producer's layout (no reorder) and the residual's layout (in-place sum)
    /// unless that makes oneDNN fall back to a different (slower) kernel than the chosen one.
    /// A preferred layout that only oneDNN's reference loops accept is dropped for its free choice.
    static func best(_ conv: FusedConv, src: dnnl_memory_desc_t, inDims: [Int], dst: dnnl_memory_desc_t?,
                     outDims: [Int], dt: dnnl_data_type_t, options: InferenceOptions) throws -> dnnl_primitive_desc_t {
        let layout = options.layout
        func create(src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t) throws -> dnnl_primitive_desc_t? {
            try SessionConvDesc.create(conv, src: src, dst: dst, dt: dt, algorithm: options.convolution)
        }
        let freeSrc = try DNNL.memoryDescriptor(inDims, dt, dnnl_format_tag_any)
        let freeDst = try DNNL.memoryDescriptor(outDims, dt, dnnl_format_tag_any)
        let preferredSrc = try DNNL.memoryDescriptor(inDims, dt, preferredTag(channels: inDims[1], layout: layout))
        let preferredDst = try DNNL.memoryDescriptor(outDims, dt, preferredTag(channels: outDims[1], layout: layout))
        var chosen = try create(src: preferredSrc, dst: preferredDst)
        if let pd = chosen, KernelLog.isReference(pd) {
            dnnl_primitive_desc_destroy(pd)
            chosen = nil
        }
        guard let chosen = try chosen ?? create(src: freeSrc, dst: freeDst) else {
            throw EngineError.invalid("InferenceSession: oneDNN has no convolution for \(inDims) -> \(outDims)")
        }
        let chosenImpl = KernelLog.implementation(chosen)
        let srcOK = src.data_type == dt
        if srcOK || dst != nil,
           let pinned = try create(src: srcOK ? src : DNNL.query(chosen, dnnl_query_src_md),
                                   dst: dst ?? DNNL.query(chosen, dnnl_query_dst_md)) {
            if KernelLog.implementation(pinned) == chosenImpl {
                dnnl_primitive_desc_destroy(chosen)
                return pinned
            }
            dnnl_primitive_desc_destroy(pinned)
        }
        return chosen
    }
}

enum SessionPoolDesc {
    /// Pooling on the producer's layout, or on the first layout with a jit kernel here
    /// (the CPU's blocked layout, then nhwc) when the producer's only has reference code.
    static func make(max: Bool, src: dnnl_memory_desc_t, outDims: [Int], kernel: (Int, Int), stride: Int, pad: Int,
                     dt: dnnl_data_type_t) throws -> dnnl_primitive_desc_t {
        let inDims = DNNL.dimensions(of: src)
        var alternatives = [dnnl_nhwc]
        if let tag = CPUKernels.blockedTag(channels: inDims[1]) { alternatives.insert(tag, at: 0) }
        func make(_ source: dnnl_memory_desc_t) throws -> dnnl_primitive_desc_t {
            try SessionPoolDesc.make(max: max, exactSource: source, outDims: outDims, kernel: kernel, stride: stride,
                                     pad: pad, dt: dt)
        }
        let first = try make(src)
        guard KernelLog.isReference(first) else { return first }
        for tag in alternatives {
            let pd = try make(try DNNL.memoryDescriptor(inDims, dt, tag))
            if !KernelLog.isReference(pd) {
                dnnl_primitive_desc_destroy(first)
                return pd
            }
            dnnl_primitive_desc_destroy(pd)
        }
        return first
    }

    static func make(max: Bool, exactSource src: dnnl_memory_desc_t, outDims: [Int], kernel: (Int, Int), stride: Int,
                     pad: Int, dt: dnnl_data_type_t) throws -> dnnl_primitive_desc_t {
        var source = src
        var destination = try DNNL.memoryDescriptor(outDims, dt, dnnl_format_tag_any)
        var strides = DNNL.dims([stride, stride])
        var window = DNNL.dims([kernel.0, kernel.1])
        var dilation = DNNL.dims([0, 0])
        var padLeft = DNNL.dims([pad, pad])
        var padRight = DNNL.dims([pad, pad])
        var desc = dnnl_pooling_v2_desc_t()
        try dnnlCheck(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference,
                                                        max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding,
                                                        &source, &destination, &strides, &window, &dilation, &padLeft,
                                                        &padRight),
                      "pooling desc")
        var pd: dnnl_primitive_desc_t?
        let attributes = try DNNL.attributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attributes, DNNLContext.shared.engine, nil),
                      "pooling primitive desc")
        return pd!
    }
}

/// Folded weights reordered once into each layout a plan asks for; shared by all plans of a session,
/// including those its inference streams build at the same time (read-only once made).
/// Unchecked Sendable: `entries` is only touched under `lock`; a memory is never written once made.
final class SessionWeightCache: @unchecked Sendable {
    private var entries: [Int: [(weight: DNNLMemory, bias: DNNLMemory)]] = [:]
    private var winogradEntries: [Int: WinogradWeights] = [:]
    private let lock = NSLock()

    /// The Winograd-transformed weights of op `op` (Discern's own kernel, `WinogradConvolution`).
    func winograd(op: Int, conv: FusedConv) -> WinogradWeights {
        lock.lock()
        defer { lock.unlock() }
        if let hit = winogradEntries[op] { return hit }
        let made = WinogradWeights(conv)
        winogradEntries[op] = made
        return made
    }

    func memories(op: Int, conv: FusedConv, weightsDesc: dnnl_memory_desc_t,
                  stream: dnnl_stream_t) throws -> (weight: DNNLMemory, bias: DNNLMemory) {
        lock.lock()
        defer { lock.unlock() }
        if let hit = entries[op]?.first(where: { DNNL.equal($0.weight.desc, weightsDesc) }) { return hit }
        let dims = SessionConvDesc.weightDims(conv)
        let plain = try DNNLMemory(try DNNL.memoryDescriptor(dims, dnnl_f32, dims.count == 4 ? dnnl_oihw : dnnl_goihw))
        conv.weight.withUnsafeBytes { plain.pointer!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let weight = try DNNLMemory(weightsDesc)
        let reorder = try DNNLPrimitive.reorder(from: plain.desc, to: weightsDesc)
        var args = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: plain.handle),
                    dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: weight.handle)]
        let scratch = reorder.scratchpadBytes > 0 ? try DNNLMemory(reorder.scratchpad) : nil
        if let scratch { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratch.handle)) }
        try reorder.execute(args, on: stream)
        try dnnlCheck(dnnl_stream_wait(stream), "weight reorder")
        let bias = try DNNLMemory(try DNNL.memoryDescriptor([conv.outChannels], dnnl_f32, dnnl_a))
        conv.bias.withUnsafeBytes { bias.pointer!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        entries[op, default: []].append((weight, bias))
        return (weight, bias)
    }
}
