import COneDNN

/// A reorder between a convolution argument's plain layout and the one its primitive takes, in either direction.
struct ConvReorderKey: Hashable {
    var conv: ConvKey
    var argument: Int32
    var intoPrimitive: Bool
}

private let reorderCache = PrimitiveCache<ConvReorderKey>()

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
    var buffers: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = []
    var copiesBack: [() throws -> Void] = []
    for (index, (argument, plain, pointer)) in (inputs + outputs).enumerated() {
        let isInput = index < inputs.count
        guard let wanted = dnnl_primitive_desc_query_md(primitive.pd, dnnl_query_exec_arg_md, argument)?.pointee,
              !DNNL.equal(wanted, plain) else {
            buffers.append((argument, plain, pointer))
            continue
        }
        let temporary = ScratchPool.shared.take(DNNL.size(wanted))
        temporaries.append(temporary)
        buffers.append((argument, wanted, temporary.pointer))
        let (from, to) = isInput ? ((plain, pointer), (wanted, temporary.pointer))
                                 : ((wanted, temporary.pointer), (plain, pointer))
        let reorder = try reorderCache.get(ConvReorderKey(conv: key, argument: argument, intoPrimitive: isInput)) {
            try DNNLPrimitive.reorder(from: from.0, to: to.0)
        }
        let copy = {
            try reorder.execute(buffers: [(DNNL_ARG_FROM, from.0, from.1), (DNNL_ARG_TO, to.0, to.1)], what: what)
        }
        if isInput { try copy() } else { copiesBack.append(copy) }
    }
    try primitive.execute(buffers: buffers, what: what)
    for copy in copiesBack { try copy() }
}
