import COneDNN
import Foundation

/// A oneDNN primitive with its descriptor; kept alive by the cache for the process lifetime.
final class DNNLPrimitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t

    /// Builds from an op descriptor (conv/pool desc passed as raw pointer); `hint` is the forward pd for backward ops.
    init(opDesc: UnsafeRawPointer, hint: DNNLPrimitive?, what: String) throws {
        // User-owned scratchpad: with the library's shared scratchpad, concurrent executions of
        // one primitive (several threads explaining at once) corrupt each other.
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attr), "\(what): attributes")
        defer { dnnl_primitive_attr_destroy(attr) }
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "\(what): scratchpad mode")
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, opDesc,
                                                 attr, DNNLContext.shared.engine, hint?.pd), "\(what): primitive descriptor")
        var p: dnnl_primitive_t?
        let st = dnnl_primitive_create(&p, pd)
        if st != dnnl_success { dnnl_primitive_desc_destroy(pd); try dnnlCheck(st, "\(what): primitive") }
        KernelLog.shared.record(pd!)
        self.pd = pd!; self.primitive = p!
        scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)?.pointee ?? dnnl_memory_desc_t()
        scratchpadBytes = withUnsafePointer(to: scratchpad) { dnnl_memory_desc_get_size($0) }
    }

    let scratchpad: dnnl_memory_desc_t
    let scratchpadBytes: Int

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
        let scratchBuffer = ScratchPool.shared.take(scratchpadBytes)
        defer { ScratchPool.shared.give(scratchBuffer) }
        let scratch = scratchBuffer.pointer
        let all = scratchpadBytes > 0 ? args + [(DNNL_ARG_SCRATCHPAD, scratchpad, scratch)] : args
        for (arg, desc, ptr) in all {
            var d = desc
            var m: dnnl_memory_t?
            try dnnlCheck(dnnl_memory_create(&m, &d, ctx.engine, ptr), "\(what): memory")
            mems.append(m!)
            exec.append(dnnl_exec_arg_t(arg: arg, memory: m))
        }
        // A stream per call: oneDNN streams are not thread-safe, and CPU stream creation is cheap
        // next to a convolution, so concurrent callers never share one.
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, ctx.engine, dnnl_stream_default_flags.rawValue), "\(what): stream")
        defer { dnnl_stream_destroy(stream) }
        try dnnlCheck(dnnl_primitive_execute(primitive, stream, Int32(exec.count), exec), "\(what): execute")
        try dnnlCheck(dnnl_stream_wait(stream), "\(what): wait")
    }
}

/// Reusable 64-byte aligned scratchpads: one buffer per concurrent caller, grown to the largest
/// need, so steady-state calls neither allocate nor page-fault fresh memory.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    struct Buffer { let pointer: UnsafeMutableRawPointer; let size: Int }
    private var free: [Buffer] = []
    private let lock = NSLock()

    func take(_ bytes: Int) -> Buffer {
        lock.lock()
        let reuse = free.firstIndex { $0.size >= bytes }.map { free.remove(at: $0) }
        let old = reuse == nil ? free.popLast() : nil
        lock.unlock()
        if let reuse { return reuse }
        old?.pointer.deallocate()
        let size = max(bytes, 4096)
        return Buffer(pointer: .allocate(byteCount: size, alignment: 64), size: size)
    }

    func give(_ b: Buffer) { lock.lock(); free.append(b); lock.unlock() }
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
