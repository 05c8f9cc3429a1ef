import COneDNN

/// The one set of owning wrappers over oneDNN's C API, used by both executors: the autograd
/// `AutogradExecutor`'s per-op primitives (`ConvOps`, `PoolOps`) and the fused `InferenceSession`'s plans.

/// The process-wide oneDNN CPU engine and stream. oneDNN (Debian build, OpenMP runtime)
/// uses every core by default.
/// Unchecked: the two handles are created once and never change; oneDNN engines are thread-safe.
public final class DNNLContext: @unchecked Sendable {
    public static let shared = DNNLContext()
    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t

    private init() {
        // The calls stay outside precondition(), whose condition an -Ounchecked build would not evaluate.
        var createdEngine: dnnl_engine_t?
        let engineStatus = dnnl_engine_create(&createdEngine, dnnl_cpu, 0)
        guard engineStatus == dnnl_success, let createdEngine else {
            fatalError("oneDNN: cannot create the CPU engine (status \(engineStatus.rawValue))")
        }
        var createdStream: dnnl_stream_t?
        let streamStatus = dnnl_stream_create(&createdStream, createdEngine, dnnl_stream_default_flags.rawValue)
        guard streamStatus == dnnl_success, let createdStream else {
            fatalError("oneDNN: cannot create a stream (status \(streamStatus.rawValue))")
        }
        engine = createdEngine
        stream = createdStream
    }
}

/// Turns a oneDNN status into a thrown error naming the call.
@inline(__always)
public func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws {
    if status != dnnl_success { throw EngineError.dnnl(what: what(), status: Int(status.rawValue)) }
}

/// Descriptor helpers.
enum DNNL {
    /// A dnnl_dims_t argument (C array of 12 int64) from Swift ints; arrays bridge to the C pointer.
    static func dims(_ values: [Int]) -> [dnnl_dim_t] {
        values.map { dnnl_dim_t($0) } + [dnnl_dim_t](repeating: 0, count: 12 - values.count)
    }

    /// The dimensions a memory descriptor holds (its C array of 12, cut to its rank).
    static func dimensions(of descriptor: dnnl_memory_desc_t) -> [Int] {
        withUnsafeBytes(of: descriptor.dims) { bytes in
            bytes.bindMemory(to: dnnl_dim_t.self).prefix(Int(descriptor.ndims)).map(Int.init)
        }
    }

    /// DNNL_MEMORY_ALLOCATE, a macro Swift cannot import.
    static var allocate: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt.max) }

    /// A memory descriptor of `shape` with the given element type and format tag.
    static func memoryDescriptor(_ shape: [Int], _ dataType: dnnl_data_type_t,
                                 _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        var cDims = dims(shape)
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&descriptor, Int32(shape.count), &cDims, dataType, tag),
                      "memory descriptor \(shape)")
        return descriptor
    }

    static func equal(_ first: dnnl_memory_desc_t, _ second: dnnl_memory_desc_t) -> Bool {
        var first = first
        var second = second
        return dnnl_memory_desc_equal(&first, &second) != 0
    }

    static func size(_ descriptor: dnnl_memory_desc_t) -> Int {
        var descriptor = descriptor
        return dnnl_memory_desc_get_size(&descriptor)
    }

    /// The memory descriptor `pd` reports for `what` (source, weights, scratchpad, ...).
    static func query(_ pd: dnnl_primitive_desc_t, _ what: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, 0).pointee
    }

    /// Primitive attributes with an optional post-op chain; the caller destroys them once the
    /// descriptor is made. The scratchpad is always the caller's: with oneDNN's shared one,
    /// concurrent executions of one primitive (several threads explaining at once, or plans running
    /// on several inference streams) corrupt each other.
    static func attributes(sum: Bool = false, activation: FusedActivation? = nil) throws -> dnnl_primitive_attr_t {
        var attributes: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attributes), "attributes create")
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user),
                      "attributes scratchpad")
        var ops: dnnl_post_ops_t?
        try dnnlCheck(dnnl_post_ops_create(&ops), "post-ops create")
        defer { dnnl_post_ops_destroy(ops) }
        if sum { try dnnlCheck(dnnl_post_ops_append_sum(ops, 1), "post-op sum") }
        switch activation {
        case .relu: try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "post-op relu")
        case .relu6: try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_clip, 0, 6), "post-op relu6")
        case nil: break
        }
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes, ops), "attributes post-ops")
        return attributes!
    }
}

/// A memory object (descriptor + buffer).
/// Not Sendable: a plan's memories are used by the one thread that runs the plan.
final class DNNLMemory {
    let handle: dnnl_memory_t
    let desc: dnnl_memory_desc_t

    /// Library-allocated buffer (weights and biases).
    convenience init(_ desc: dnnl_memory_desc_t) throws {
        try self.init(desc, pointer: DNNL.allocate)
    }

    /// Memory over a caller-managed buffer (may be nil and set later).
    init(_ desc: dnnl_memory_desc_t, pointer: UnsafeMutableRawPointer?) throws {
        var descriptor = desc
        var memory: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&memory, &descriptor, DNNLContext.shared.engine, pointer), "memory create")
        handle = memory!
        self.desc = desc
    }

    var pointer: UnsafeMutableRawPointer? {
        var pointer: UnsafeMutableRawPointer?
        dnnl_memory_get_data_handle(handle, &pointer)
        return pointer
    }

    func setPointer(_ pointer: UnsafeMutableRawPointer) throws {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, pointer), "memory set handle")
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// A created primitive and the descriptor it came from, both owned (destroyed with it).
/// Unchecked Sendable: both handles are immutable after creation and oneDNN executes one primitive
/// from several threads at once, given each call its own stream and scratchpad (both callers do).
final class DNNLPrimitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    let scratchpad: dnnl_memory_desc_t
    /// Bytes of the scratchpad the caller must pass (every primitive here uses a user scratchpad).
    let scratchpadBytes: Int

    /// Takes ownership of `pd` (destroyed here when the primitive cannot be made).
    init(pd: dnnl_primitive_desc_t, what: String) throws {
        var created: dnnl_primitive_t?
        let status = dnnl_primitive_create(&created, pd)
        if status != dnnl_success { dnnl_primitive_desc_destroy(pd) }
        try dnnlCheck(status, "\(what): primitive")
        KernelLog.shared.record(pd)
        self.pd = pd
        primitive = created!
        scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)?.pointee ?? dnnl_memory_desc_t()
        scratchpadBytes = DNNL.size(scratchpad)
    }

    /// From an op descriptor (a conv/pool desc passed as a raw pointer) with a user scratchpad;
    /// `hint` is the forward primitive of a backward op.
    convenience init(operation: UnsafeRawPointer, hint: DNNLPrimitive?, what: String) throws {
        let attributes = try DNNL.attributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, operation, attributes, DNNLContext.shared.engine, hint?.pd),
                      "\(what): primitive descriptor")
        try self.init(pd: pd!, what: what)
    }

    static func reorder(from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t) throws -> DNNLPrimitive {
        var source = source
        var destination = destination
        var pd: dnnl_primitive_desc_t?
        let engine = DNNLContext.shared.engine
        let attributes = try DNNL.attributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &source, engine, &destination, engine, attributes),
                      "reorder desc")
        return try DNNLPrimitive(pd: pd!, what: "reorder")
    }

    /// Memory descriptor the primitive expects for a query (e.g. workspace).
    func memoryDescriptor(_ query: dnnl_query_t) -> dnnl_memory_desc_t? {
        dnnl_primitive_desc_query_md(pd, query, 0)?.pointee
    }

    /// Executes with memory objects the caller made (scratchpad included) on the caller's stream.
    func execute(_ args: [dnnl_exec_arg_t], on stream: dnnl_stream_t) throws {
        try args.withUnsafeBufferPointer { buffer in
            try dnnlCheck(dnnl_primitive_execute(primitive, stream, Int32(buffer.count), buffer.baseAddress), "execute")
        }
    }

    /// Executes on (arg, descriptor, pointer) triples: memory objects wrap the caller's buffers, the
    /// scratchpad comes from `ScratchPool`, and the call waits on a stream of its own.
    func execute(buffers: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)], what: String) throws {
        let engine = DNNLContext.shared.engine
        var memories: [dnnl_memory_t] = []
        defer { for memory in memories { dnnl_memory_destroy(memory) } }
        var exec: [dnnl_exec_arg_t] = []
        let scratchBuffer = ScratchPool.shared.take(scratchpadBytes)
        defer { ScratchPool.shared.give(scratchBuffer) }
        let all = scratchpadBytes > 0 ? buffers + [(DNNL_ARG_SCRATCHPAD, scratchpad, scratchBuffer.pointer)] : buffers
        for (arg, desc, pointer) in all {
            var descriptor = desc
            var memory: dnnl_memory_t?
            try dnnlCheck(dnnl_memory_create(&memory, &descriptor, engine, pointer), "\(what): memory")
            memories.append(memory!)
            exec.append(dnnl_exec_arg_t(arg: arg, memory: memory))
        }
        // A stream per call: oneDNN streams are not thread-safe, and CPU stream creation is cheap
        // next to a convolution, so concurrent callers never share one.
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "\(what): stream")
        defer { dnnl_stream_destroy(stream) }
        try dnnlCheck(dnnl_primitive_execute(primitive, stream, Int32(exec.count), exec), "\(what): execute")
        try dnnlCheck(dnnl_stream_wait(stream), "\(what): wait")
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }
}
