import COneDNN

/// A reorder between a convolution argument's plain layout and the one its primitive takes.
struct ConvReorderKey: Hashable {
    var conv: ConvKey
    var argument: Int32
}

private let reorderIntoCache = PrimitiveCache<ConvReorderKey>()
private let reorderOutOfCache = PrimitiveCache<ConvReorderKey>()

/// Executes `primitive` on plain (NCHW/OIHW/x) buffers: an argument whose layout the primitive takes differently
/// goes through a temporary buffer, reordered into it before (`inputs`) or out of it after (`outputs`).
func executeReordering(_ primitive: DNNLPrimitive, _ key: ConvKey,
                       inputs: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)],
                       outputs: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)], what: String) throws {
    guard key.blockedTag != nil else {
        try primitive.execute(buffers: inputs + outputs, what: what)
        return
    }
    // From the scratch pool: steady-state steps reuse the same pages instead of faulting in fresh ones.
    var temporaries: [ScratchPool.Buffer] = []
    defer { for buffer in temporaries { ScratchPool.shared.give(buffer) } }
    func taken(_ argument: Int32, _ plain: dnnl_memory_desc_t) -> dnnl_memory_desc_t? {
        guard let wanted = dnnl_primitive_desc_query_md(primitive.pd, dnnl_query_exec_arg_md, argument)?.pointee,
              !DNNL.equal(wanted, plain) else { return nil }
        return wanted
    }
    func temporary(_ descriptor: dnnl_memory_desc_t) -> UnsafeMutableRawPointer {
        let buffer = ScratchPool.shared.take(DNNL.size(descriptor))
        temporaries.append(buffer)
        return buffer.pointer
    }
    var buffers: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = []
    for (argument, plain, pointer) in inputs {
        guard let wanted = taken(argument, plain) else { buffers.append((argument, plain, pointer)); continue }
        let into = temporary(wanted)
        let reorder = try reorderIntoCache.get(ConvReorderKey(conv: key, argument: argument)) {
            try DNNLPrimitive.reorder(from: plain, to: wanted)
        }
        try reorder.execute(buffers: [(DNNL_ARG_FROM, plain, pointer), (DNNL_ARG_TO, wanted, into)], what: what)
        buffers.append((argument, wanted, into))
    }
    var pending: [(ConvReorderKey, dnnl_memory_desc_t, UnsafeMutableRawPointer, dnnl_memory_desc_t,
                   UnsafeMutableRawPointer)] = []
    for (argument, plain, pointer) in outputs {
        guard let wanted = taken(argument, plain) else { buffers.append((argument, plain, pointer)); continue }
        let from = temporary(wanted)
        pending.append((ConvReorderKey(conv: key, argument: argument), wanted, from, plain, pointer))
        buffers.append((argument, wanted, from))
    }
    try primitive.execute(buffers: buffers, what: what)
    for (reorderKey, wanted, from, plain, pointer) in pending {
        let reorder = try reorderOutOfCache.get(reorderKey) { try DNNLPrimitive.reorder(from: wanted, to: plain) }
        try reorder.execute(buffers: [(DNNL_ARG_FROM, wanted, from), (DNNL_ARG_TO, plain, pointer)], what: what)
    }
}
