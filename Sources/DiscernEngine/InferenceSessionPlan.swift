import COneDNN

/// The oneDNN primitives, memories and buffers for one input shape [n,C,H,W]. Activations stay
/// in the layouts oneDNN picks (blocked); reorders happen at the edges or where a layout changes.
final class InferencePlan {
    private struct Slot { var desc: dnnl_memory_desc_t; var mem: DNNLMemory; var first: Int; var last: Int; var alias: Int? }
    private struct Step { let prim: DNNLPrimitive; let args: [(Int32, Int)] }  // arg kind -> slot (or -1-k: fixed memory k)

    private var slots: [Slot] = []
    private var steps: [Step] = []
    private var fixed: [DNNLMemory] = []          // weights, biases (shared with other plans)
    private var buffers: [UnsafeMutableRawPointer] = []
    private var execArgs: [[dnnl_exec_arg_t]] = []
    private let inputSlot: Int, outputSlot: Int
    private let stream: dnnl_stream_t
    /// One user scratchpad for every step: steps run one after another.
    private var scratchpad: UnsafeMutableRawPointer?
    private var scratchpadMemories: [DNNLMemory] = []
    let outputShape: [Int]

    /// `stream` is the oneDNN stream of the thread that runs the plan.
    init(program: FusedProgram, shape: [Int], options: InferenceOptions, weights: SessionWeightCache,
         stream: dnnl_stream_t) throws {
        self.stream = stream
        let n = shape[0]
        let dt = options.precision == .bf16 ? dnnl_bf16 : dnnl_f32
        var valueSlot = [Int: Int]()
        var dims = [Int: [Int]]()                // value -> [C,H,W]
        var slots: [Slot] = []
        var steps: [Step] = []
        var fixed: [DNNLMemory] = []
        func newSlot(_ d: dnnl_memory_desc_t, _ at: Int, alias: Int? = nil) throws -> Int {
            slots.append(Slot(desc: d, mem: try DNNLMemory(d, pointer: nil), first: at, last: at, alias: alias))
            return slots.count - 1
        }
        func use(_ s: Int, _ at: Int) { slots[s].last = max(slots[s].last, at) }
        /// Slot holding `value` in layout `want`, reordering before step `at` when needed.
        func source(_ value: Int, _ want: dnnl_memory_desc_t, _ at: Int) throws -> Int {
            let s = valueSlot[value]!
            use(s, at)
            if DNNL.equal(slots[s].desc, want) { return s }
            let t = try newSlot(want, at)
            steps.append(Step(prim: try .reorder(from: slots[s].desc, to: want), args: [(DNNL_ARG_FROM, s), (DNNL_ARG_TO, t)]))
            return t
        }

        let inputDesc = try DNNL.memoryDescriptor(shape, dnnl_f32, dnnl_nchw)
        inputSlot = try newSlot(inputDesc, -1)
        valueSlot[program.inputNode] = inputSlot
        dims[program.inputNode] = Array(shape.dropFirst())

        for (i, op) in program.ops.enumerated() {
            let (c, h, w) = (dims[op.input]![0], dims[op.input]![1], dims[op.input]![2])
            let srcDesc = slots[valueSlot[op.input]!].desc
            switch op.kind {
            case let .conv(p):
                guard p.inChannels == c else {
                    throw EngineError.shapeMismatch(what: "InferenceSession conv input channels", expected: [p.inChannels], actual: [c])
                }
                let oh = (h + p.padTop + p.padBottom - p.kernel.h) / p.stride.h + 1
                let ow = (w + p.padLeft + p.padRight - p.kernel.w) / p.stride.w + 1
                guard oh > 0, ow > 0 else { throw EngineError.invalid("InferenceSession: input \(h)x\(w) is too small for this network") }
                let outDims = [n, p.outChannels, oh, ow]
                let resDesc = p.residual.map { slots[valueSlot[$0]!].desc }
                let pd = try SessionConvDesc.best(p, src: srcDesc, inDims: [n, c, h, w], dst: resDesc, outDims: outDims,
                                                  dt: dt, options: options)
                let src = try source(op.input, DNNL.query(pd, dnnl_query_src_md), i)
                let dstDesc = DNNL.query(pd, dnnl_query_dst_md)
                var dst: Int
                if let r = p.residual, let rs = valueSlot[r] {
                    use(rs, i)
                    let lastReader = program.ops.indices.last { program.ops[$0].reads.contains(r) }
                    if DNNL.equal(slots[rs].desc, dstDesc) && lastReader == i && rs != inputSlot {
                        dst = try newSlot(dstDesc, i, alias: rs)     // accumulate in place
                    } else {
                        dst = try newSlot(dstDesc, i)
                        steps.append(Step(prim: try .reorder(from: slots[rs].desc, to: dstDesc), args: [(DNNL_ARG_FROM, rs), (DNNL_ARG_TO, dst)]))
                    }
                } else {
                    dst = try newSlot(dstDesc, i)
                }
                let (wm, bm) = try weights.memories(op: i, conv: p, weightsDesc: DNNL.query(pd, dnnl_query_weights_md),
                                                    stream: stream)
                fixed.append(wm); fixed.append(bm)
                let prim = try DNNLPrimitive(pd: pd, what: "convolution \(outDims)")
                steps.append(Step(prim: prim, args: [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, -fixed.count + 1),
                                                     (DNNL_ARG_BIAS, -fixed.count), (DNNL_ARG_DST, dst)]))
                valueSlot[op.output] = dst; dims[op.output] = [p.outChannels, oh, ow]
            case let .maxPool(p):
                let oh = (h + 2 * p.padding - p.kernel) / p.stride + 1, ow = (w + 2 * p.padding - p.kernel) / p.stride + 1
                let pd = try SessionPoolDesc.make(max: true, src: srcDesc, outDims: [n, c, oh, ow], kernel: (p.kernel, p.kernel),
                                           stride: p.stride, pad: p.padding, dt: dt)
                let src = try source(op.input, DNNL.query(pd, dnnl_query_src_md), i)
                let dst = try newSlot(DNNL.query(pd, dnnl_query_dst_md), i)
                steps.append(Step(prim: try DNNLPrimitive(pd: pd, what: "max pool"), args: [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst)]))
                valueSlot[op.output] = dst; dims[op.output] = [c, oh, ow]
            case .globalAvgPool:
                let pd = try SessionPoolDesc.make(max: false, src: srcDesc, outDims: [n, c, 1, 1], kernel: (h, w), stride: 1, pad: 0, dt: dt)
                let src = try source(op.input, DNNL.query(pd, dnnl_query_src_md), i)
                let dst = try newSlot(DNNL.query(pd, dnnl_query_dst_md), i)
                steps.append(Step(prim: try DNNLPrimitive(pd: pd, what: "average pool"), args: [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst)]))
                valueSlot[op.output] = dst; dims[op.output] = [c, 1, 1]
            }
        }
        // Edge reorder into plain float32 NCHW.
        let od = dims[program.outputValue]!
        let outDesc = try DNNL.memoryDescriptor([n] + od, dnnl_f32, dnnl_nchw)
        outputSlot = try newSlot(outDesc, program.ops.count)
        let last = valueSlot[program.outputValue]!
        use(last, program.ops.count)
        steps.append(Step(prim: try .reorder(from: slots[last].desc, to: outDesc), args: [(DNNL_ARG_FROM, last), (DNNL_ARG_TO, outputSlot)]))
        outputShape = program.flatten ? [n, od[0]] : [n] + od

        self.slots = slots; self.steps = steps; self.fixed = fixed
        try allocate()
        execArgs = steps.map { st in
            st.args.map { (kind, ref) in dnnl_exec_arg_t(arg: kind, memory: ref >= 0 ? self.slots[ref].mem.handle : self.fixed[-ref - 1].handle) }
        }
        try attachScratchpad()
    }

    private func attachScratchpad() throws {
        let largest = steps.map(\.prim.scratchpadBytes).max() ?? 0
        guard largest > 0 else { return }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: largest, alignment: 64)
        buffers.append(buffer)
        scratchpad = buffer
        for (index, step) in steps.enumerated() where step.prim.scratchpadBytes > 0 {
            let memory = try DNNLMemory(DNNL.query(step.prim.pd, dnnl_query_scratchpad_md), pointer: buffer)
            scratchpadMemories.append(memory)
            execArgs[index].append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory.handle))
        }
    }

    /// Greedy buffer reuse by lifetime: a buffer is free again after its value's last reader.
    private func allocate() throws {
        func root(_ s: Int) -> Int { var r = s; while let a = slots[r].alias { r = a }; return r }
        for s in slots.indices where slots[s].alias != nil { let r = root(s); slots[r].last = max(slots[r].last, slots[s].last) }
        var free: [(UnsafeMutableRawPointer, Int)] = []
        var owned: [Int: (UnsafeMutableRawPointer, Int)] = [:]
        let order = slots.indices.filter { $0 != inputSlot && slots[$0].alias == nil }.sorted { slots[$0].first < slots[$1].first }
        var releaseAt: [Int: [Int]] = [:]
        for s in order { releaseAt[slots[s].last, default: []].append(s) }
        var released = Set<Int>()
        for s in order {
            // Free buffers whose last use is before this slot's definition.
            for (t, list) in releaseAt where t < slots[s].first { for r in list where !released.contains(r) {
                if let b = owned[r] { free.append(b); released.insert(r) } } }
            let size = max(DNNL.size(slots[s].desc), 64)
            if let k = free.indices.filter({ free[$0].1 >= size }).min(by: { free[$0].1 < free[$1].1 }) {
                owned[s] = free.remove(at: k)
            } else {
                let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                buffers.append(p); owned[s] = (p, size)
            }
            try slots[s].mem.setPointer(owned[s]!.0)
        }
        for s in slots.indices where slots[s].alias != nil { try slots[s].mem.setPointer(owned[root(s)]!.0) }
    }

    /// Runs the plan on a plain NCHW float32 batch and returns the plain output.
    func run(_ x: UnsafePointer<Float>) throws -> [Float] {
        try slots[inputSlot].mem.setPointer(UnsafeMutableRawPointer(mutating: x))
        for (st, args) in zip(steps, execArgs) { try st.prim.execute(args, on: stream) }
        try dnnlCheck(dnnl_stream_wait(stream), "stream wait")
        let count = outputShape.reduce(1, *)
        let p = slots[outputSlot].mem.pointer!.assumingMemoryBound(to: Float.self)
        return Array(UnsafeBufferPointer(start: p, count: count))
    }

    deinit { for b in buffers { b.deallocate() } }
}
