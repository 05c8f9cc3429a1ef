import COneDNN
import Foundation

/// A oneDNN primitive with its descriptor; kept alive by the cache for the process lifetime.
final class DNNLPrimitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t

    /// Builds from an op descriptor (conv/pool desc passed as raw pointer); `hint` is the forward pd for backward ops.
    init(opDesc: UnsafeRawPointer, hint: DNNLPrimitive?, what: String) throws {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, opDesc,
                                                 nil, DNNLContext.shared.engine, hint?.pd), "\(what): primitive descriptor")
        var p: dnnl_primitive_t?
        let st = dnnl_primitive_create(&p, pd)
        if st != dnnl_success { dnnl_primitive_desc_destroy(pd); try dnnlCheck(st, "\(what): primitive") }
        self.pd = pd!; self.primitive = p!
    }

    /// Memory descriptor the primitive expects for a query (e.g. workspace).
    func md(_ q: dnnl_query_t) -> dnnl_memory_desc_t? {
        guard let p = dnnl_primitive_desc_query_md(pd, q, 0) else { return nil }
        return p.pointee
    }

    /// Executes with (arg, descriptor, pointer) triples; memory objects wrap the caller's buffers.
    func execute(_ args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)], what: String) throws {
        let ctx = DNNLContext.shared
        var mems: [dnnl_memory_t] = []
        defer { for m in mems { dnnl_memory_destroy(m) } }
        var exec: [dnnl_exec_arg_t] = []
        for (arg, desc, ptr) in args {
            var d = desc
            var m: dnnl_memory_t?
            try dnnlCheck(dnnl_memory_create(&m, &d, ctx.engine, ptr), "\(what): memory")
            mems.append(m!)
            exec.append(dnnl_exec_arg_t(arg: arg, memory: m))
        }
        try dnnlCheck(dnnl_primitive_execute(primitive, ctx.stream, Int32(exec.count), exec), "\(what): execute")
        try dnnlCheck(dnnl_stream_wait(ctx.stream), "\(what): wait")
    }
}

/// Thread-safe cache of primitives keyed by shape/params.
final class PrimitiveCache<Key: Hashable>: @unchecked Sendable {
    private var entries: [Key: DNNLPrimitive] = [:]
    private let lock = NSRecursiveLock()  // backward primitives build their forward hint through the cache

    func get(_ key: Key, make: () throws -> DNNLPrimitive) throws -> DNNLPrimitive {
        lock.lock(); defer { lock.unlock() }
        if let p = entries[key] { return p }
        let p = try make()
        entries[key] = p
        return p
    }
}

/// A dnnl_dims_t argument (C array of 12 int64) from Swift ints; arrays bridge to the C pointer.
func dnnlDims(_ v: [Int]) -> [dnnl_dim_t] {
    v.map { dnnl_dim_t($0) } + [dnnl_dim_t](repeating: 0, count: 12 - v.count)
}

/// Plain f32 memory descriptor with the given format tag.
func plainMD(_ dims: [Int], _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dnnlDims(dims), dnnl_f32, tag), "memory descriptor \(dims)")
    return md
}
