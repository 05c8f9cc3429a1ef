import Foundation
import COneDNN

/// Convolution / pooling primitive descriptors and the once-per-session weight reorders.
enum SessionConvDesc {
    static func weightDims(_ p: FusedConv) -> [Int] {
        p.groups == 1 ? [p.outChannels, p.inChannels, p.kernel.h, p.kernel.w]
            : [p.groups, p.outChannels / p.groups, p.inChannels / p.groups, p.kernel.h, p.kernel.w]
    }

    /// nil when oneDNN has no implementation for these layouts.
    static func create(_ p: FusedConv, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, dt: dnnl_data_type_t) throws -> dnnl_primitive_desc_t? {
        if InferenceSession.convAlgorithm == dnnl_convolution_winograd, p.kernel == (3, 3), p.stride == (1, 1), p.groups == 1,
           let pd = try create(p, src: src, dst: dst, dt: dt, alg: dnnl_convolution_winograd) {
            return pd
        }
        return try create(p, src: src, dst: dst, dt: dt, alg: dnnl_convolution_direct)
    }

    static func create(_ p: FusedConv, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, dt: dnnl_data_type_t,
                       alg: dnnl_alg_kind_t) throws -> dnnl_primitive_desc_t? {
        var s = src, d = dst
        var w = try SessionDNNL.md(weightDims(p), dt, dnnl_format_tag_any)
        var b = try SessionDNNL.md([p.outChannels], dnnl_f32, dnnl_a)
        var strides = SessionDNNL.dims([p.stride.h, p.stride.w])
        var pl = SessionDNNL.dims([p.padTop, p.padLeft]), pr = SessionDNNL.dims([p.padBottom, p.padRight])
        var desc = dnnl_convolution_desc_t()
        let st0 = dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, alg, &s, &w, &b, &d, &strides, &pl, &pr)
        if st0 == dnnl_unimplemented { return nil }
        try dnnlCheck(st0, "convolution desc")
        let attr = try sessionAttr(sum: p.residual != nil, activation: p.activation)
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        let st = dnnl_primitive_desc_create(&pd, &desc, attr, DNNLContext.shared.engine, nil)
        if st == dnnl_unimplemented { return nil }
        try dnnlCheck(st, "convolution primitive desc")
        return pd
    }

    static func impl(_ pd: dnnl_primitive_desc_t) -> String {
        var s: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s)
        return s.map { String(cString: $0) } ?? "?"
    }

    /// Activations with a multiple of 16 channels use nChw16c: oneDNN's jit 1x1 and Winograd
    /// kernels then chain without reorders, measured 5-20% faster here than its own nhwc/brgemm
    /// choice (single-thread CPU time, ResNet50 and Lite0). DISCERN_LAYOUT=any restores its choice.
    static let blocked16 = ProcessInfo.processInfo.environment["DISCERN_LAYOUT"] != "any"

    /// Prefers the producer's layout (no reorder) and the residual's layout (in-place sum)
    /// unless that makes oneDNN fall back to a different (slower) kernel than its free choice.
    static func best(_ p: FusedConv, src: dnnl_memory_desc_t, inDims: [Int], dst: dnnl_memory_desc_t?, outDims: [Int],
                     dt: dnnl_data_type_t) throws -> dnnl_primitive_desc_t {
        func pick(_ c: Int) -> dnnl_format_tag_t { blocked16 && c % 16 == 0 ? dnnl_nChw16c : dnnl_format_tag_any }
        let anySrc = try SessionDNNL.md(inDims, dt, pick(inDims[1]))
        let anyDst = try SessionDNNL.md(outDims, dt, pick(outDims[1]))
        guard let free = try create(p, src: anySrc, dst: anyDst, dt: dt) else {
            throw EngineError.invalid("InferenceSession: oneDNN has no convolution for \(inDims) -> \(outDims)")
        }
        let freeImpl = impl(free)
        let srcOK = src.data_type == dt
        if srcOK || dst != nil,
           let pinned = try create(p, src: srcOK ? src : anySrc, dst: dst ?? anyDst, dt: dt) {
            if impl(pinned) == freeImpl { dnnl_primitive_desc_destroy(free); return pinned }
            dnnl_primitive_desc_destroy(pinned)
        }
        return free
    }
}

enum SessionPoolDesc {
    static func make(max: Bool, src: dnnl_memory_desc_t, outDims: [Int], kernel: (Int, Int), stride: Int, pad: Int,
                     dt: dnnl_data_type_t) throws -> dnnl_primitive_desc_t {
        var s = src
        var d = try SessionDNNL.md(outDims, dt, dnnl_format_tag_any)
        var st = SessionDNNL.dims([stride, stride]), k = SessionDNNL.dims([kernel.0, kernel.1]), dil = SessionDNNL.dims([0, 0])
        var pl = SessionDNNL.dims([pad, pad]), pr = SessionDNNL.dims([pad, pad])
        var desc = dnnl_pooling_v2_desc_t()
        try dnnlCheck(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference,
                                                        max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding,
                                                        &s, &d, &st, &k, &dil, &pl, &pr), "pooling desc")
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, nil, DNNLContext.shared.engine, nil), "pooling primitive desc")
        return pd!
    }
}

/// Folded weights reordered once into each layout a plan asks for; shared by all plans of a session.
final class SessionWeightCache {
    private var entries: [Int: [(SessionMemory, SessionMemory)]] = [:]

    func memories(op: Int, conv p: FusedConv, weightsDesc: dnnl_memory_desc_t) throws -> (SessionMemory, SessionMemory) {
        if let hit = entries[op]?.first(where: { SessionDNNL.equal($0.0.desc, weightsDesc) }) { return hit }
        let dims = SessionConvDesc.weightDims(p)
        let plain = try SessionMemory(try SessionDNNL.md(dims, dnnl_f32, dims.count == 4 ? dnnl_oihw : dnnl_goihw))
        p.weight.withUnsafeBytes { plain.pointer!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let w = try SessionMemory(weightsDesc)
        let r = try SessionPrimitive.reorder(from: plain.desc, to: weightsDesc)
        try r.execute([dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: plain.handle), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: w.handle)])
        try dnnlCheck(dnnl_stream_wait(DNNLContext.shared.stream), "weight reorder")
        let b = try SessionMemory(try SessionDNNL.md([p.outChannels], dnnl_f32, dnnl_a))
        p.bias.withUnsafeBytes { b.pointer!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        entries[op, default: []].append((w, b))
        return (w, b)
    }
}
