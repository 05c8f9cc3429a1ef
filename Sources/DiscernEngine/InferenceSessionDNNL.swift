import COneDNN

/// Small owning wrappers over the oneDNN C API used by the inference session.
enum SessionDNNL {
    /// A dnnl_dims_t-sized array (the C API takes it as a pointer).
    static func dims(_ a: [Int]) -> [Int64] {
        a.map(Int64.init) + [Int64](repeating: 0, count: 12 - a.count)
    }
    /// DNNL_MEMORY_ALLOCATE, a macro Swift cannot import.
    static let allocate = UnsafeMutableRawPointer(bitPattern: UInt.max)

    static func md(_ shape: [Int], _ dt: dnnl_data_type_t, _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
        var m = dnnl_memory_desc_t()
        var d = dims(shape)
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&m, Int32(shape.count), &d, dt, tag), "memory desc \(shape)")
        return m
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    static func size(_ m: dnnl_memory_desc_t) -> Int {
        var m = m
        return dnnl_memory_desc_get_size(&m)
    }

    static func query(_ pd: dnnl_primitive_desc_t, _ what: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, 0).pointee
    }
}

/// A memory object (descriptor + buffer); the buffer is ours unless `owned` is false.
final class SessionMemory {
    let handle: dnnl_memory_t
    let desc: dnnl_memory_desc_t

    /// Library-allocated buffer (weights and biases).
    init(_ desc: dnnl_memory_desc_t) throws {
        var d = desc
        var m: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&m, &d, DNNLContext.shared.engine, SessionDNNL.allocate), "memory create")
        handle = m!; self.desc = desc
    }

    /// Memory over a caller-managed buffer (may be nil and set later).
    init(_ desc: dnnl_memory_desc_t, pointer: UnsafeMutableRawPointer?) throws {
        var d = desc
        var m: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&m, &d, DNNLContext.shared.engine, pointer), "memory create")
        handle = m!; self.desc = desc
    }

    var pointer: UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer?
        dnnl_memory_get_data_handle(handle, &p)
        return p
    }

    func setPointer(_ p: UnsafeMutableRawPointer) throws {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, p), "memory set handle")
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// A created primitive plus the descriptor it came from.
final class SessionPrimitive {
    let primitive: dnnl_primitive_t
    let pd: dnnl_primitive_desc_t

    init(pd: dnnl_primitive_desc_t, what: String) throws {
        var p: dnnl_primitive_t?
        let status = dnnl_primitive_create(&p, pd)
        if status != dnnl_success { dnnl_primitive_desc_destroy(pd) }
        try dnnlCheck(status, what)
        KernelLog.shared.record(pd)
        primitive = p!; self.pd = pd
    }

    static func reorder(from src: dnnl_memory_desc_t, to dst: dnnl_memory_desc_t) throws -> SessionPrimitive {
        var s = src, d = dst
        var pd: dnnl_primitive_desc_t?
        let e = DNNLContext.shared.engine
        let attr = try sessionAttr(sum: false, activation: nil)
        defer { dnnl_primitive_attr_destroy(attr) }
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &s, e, &d, e, attr), "reorder desc")
        return try SessionPrimitive(pd: pd!, what: "reorder")
    }

    /// Bytes of the scratchpad the caller must pass (every session primitive uses a user scratchpad).
    var scratchpadBytes: Int { SessionDNNL.size(SessionDNNL.query(pd, dnnl_query_scratchpad_md)) }

    func execute(_ args: [dnnl_exec_arg_t], on stream: dnnl_stream_t) throws {
        try args.withUnsafeBufferPointer { a in
            try dnnlCheck(dnnl_primitive_execute(primitive, stream, Int32(a.count), a.baseAddress), "execute")
        }
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }
}

/// Primitive attributes with a post-op chain; destroyed after the descriptor is made. The scratchpad
/// is the caller's (one buffer per plan): with oneDNN's own, plans running at once on several
/// inference streams could share one through its primitive cache.
func sessionAttr(sum: Bool, activation: FusedActivation?) throws -> dnnl_primitive_attr_t {
    var attr: dnnl_primitive_attr_t?
    try dnnlCheck(dnnl_primitive_attr_create(&attr), "attr create")
    try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "attr scratchpad")
    var ops: dnnl_post_ops_t?
    try dnnlCheck(dnnl_post_ops_create(&ops), "post-ops create")
    defer { dnnl_post_ops_destroy(ops) }
    if sum { try dnnlCheck(dnnl_post_ops_append_sum(ops, 1), "post-op sum") }
    switch activation {
    case .relu: try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "post-op relu")
    case .relu6: try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_clip, 0, 6), "post-op relu6")
    case nil: break
    }
    try dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, ops), "attr post-ops")
    return attr!
}
