import COneDNN

/// The oneDNN primitives, memories and buffers for one input shape [n,C,H,W]. Activations stay
/// in the layouts oneDNN picks (blocked); reorders happen at the edges or where a layout changes.
/// Not Sendable: a plan runs on the one thread that owns its stream.
final class InferencePlan {
    /// A value's memory: its layout, the steps between which it lives, and the slot it accumulates
    /// into in place (a residual sum), if any.
    private struct Slot {
        var desc: dnnl_memory_desc_t
        var memory: DNNLMemory
        var first: Int
        var last: Int
        var alias: Int?
    }

    /// A oneDNN primitive and its arguments (arg kind -> slot index, or -1-k for fixed memory k), or one of
    /// Discern's own Winograd layers and the slots it reads and writes.
    private enum Step {
        case primitive(DNNLPrimitive, args: [(Int32, Int)])
        case winograd(WinogradStep, source: Int, destination: Int)

        init(primitive: DNNLPrimitive, args: [(Int32, Int)]) { self = .primitive(primitive, args: args) }

        var primitive: DNNLPrimitive? {
            if case let .primitive(primitive, _) = self { return primitive }
            return nil
        }

        var args: [(Int32, Int)] {
            if case let .primitive(_, args) = self { return args }
            return []
        }
    }

    private var slots: [Slot] = []
    private var steps: [Step] = []
    /// Weights and biases (shared with the session's other plans).
    private var fixed: [DNNLMemory] = []
    private var buffers: [UnsafeMutableRawPointer] = []
    private var execArgs: [[dnnl_exec_arg_t]] = []
    private let inputSlot: Int
    private let outputSlot: Int
    private let stream: dnnl_stream_t
    /// One user scratchpad for every step: steps run one after another.
    private var scratchpad: UnsafeMutableRawPointer?
    /// Likewise for the Winograd layers' transformed patches and products.
    private var winogradScratch: UnsafeMutablePointer<Float>?
    private var scratchpadMemories: [DNNLMemory] = []
    let outputShape: [Int]

    /// `stream` is the oneDNN stream of the thread that runs the plan.
    init(program: FusedProgram, shape: [Int], options: InferenceOptions, weights: SessionWeightCache,
         stream: dnnl_stream_t) throws {
        self.stream = stream
        let n = shape[0]
        let dataType = options.precision == .bf16 ? dnnl_bf16 : dnnl_f32
        var valueSlot = [Int: Int]()
        var dims = [Int: [Int]]()  // value -> [C,H,W]
        var slots: [Slot] = []
        var steps: [Step] = []
        var fixed: [DNNLMemory] = []
        func newSlot(_ desc: dnnl_memory_desc_t, _ step: Int, alias: Int? = nil) throws -> Int {
            let memory = try DNNLMemory(desc, pointer: nil)
            slots.append(Slot(desc: desc, memory: memory, first: step, last: step, alias: alias))
            return slots.count - 1
        }
        func use(_ slot: Int, _ step: Int) { slots[slot].last = max(slots[slot].last, step) }
        func reorder(_ from: Int, _ to: Int) throws -> Step {
            Step(primitive: try .reorder(from: slots[from].desc, to: slots[to].desc),
                 args: [(DNNL_ARG_FROM, from), (DNNL_ARG_TO, to)])
        }
        /// Slot a convolution at `step` writes in layout `desc`: a new one, or with a residual sum the residual's own
        /// slot when this is its last reader and the layouts match (accumulate in place), else a new one the residual
        /// is first copied into. Never the source's slot: a convolution cannot read and write one buffer.
        func destinationSlot(_ conv: FusedConv, _ desc: dnnl_memory_desc_t, _ step: Int, source: Int,
                             input: Int) throws -> Int {
            guard let residual = conv.residual, let residualSlot = valueSlot[residual] else {
                return try newSlot(desc, step)
            }
            use(residualSlot, step)
            let lastReader = program.ops.indices.last { program.ops[$0].reads.contains(residual) }
            if DNNL.equal(slots[residualSlot].desc, desc) && lastReader == step && residualSlot != input
                && residualSlot != source {
                return try newSlot(desc, step, alias: residualSlot)  // accumulate in place
            }
            let destination = try newSlot(desc, step)
            steps.append(try reorder(residualSlot, destination))
            return destination
        }
        /// Slot holding `value` in layout `wanted`, reordering before step `step` when needed.
        func sourceSlot(_ value: Int, _ wanted: dnnl_memory_desc_t, _ step: Int) throws -> Int {
            let slot = valueSlot[value]!
            use(slot, step)
            if DNNL.equal(slots[slot].desc, wanted) { return slot }
            let reordered = try newSlot(wanted, step)
            steps.append(try reorder(slot, reordered))
            return reordered
        }

        let inputDesc = try DNNL.memoryDescriptor(shape, dnnl_f32, dnnl_nchw)
        inputSlot = try newSlot(inputDesc, -1)
        valueSlot[program.inputNode] = inputSlot
        dims[program.inputNode] = Array(shape.dropFirst())

        for (index, op) in program.ops.enumerated() {
            let (c, h, w) = (dims[op.input]![0], dims[op.input]![1], dims[op.input]![2])
            let sourceDesc = slots[valueSlot[op.input]!].desc
            switch op.kind {
            case let .conv(conv):
                guard conv.inChannels == c else {
                    throw EngineError.shapeMismatch(what: "InferenceSession conv input channels",
                                                    expected: [conv.inChannels], actual: [c])
                }
                let oh = (h + conv.padTop + conv.padBottom - conv.kernel.h) / conv.stride.h + 1
                let ow = (w + conv.padLeft + conv.padRight - conv.kernel.w) / conv.stride.w + 1
                guard oh > 0, ow > 0 else {
                    throw EngineError.invalid("InferenceSession: input \(h)x\(w) is too small for this network")
                }
                let outDims = [n, conv.outChannels, oh, ow]
                if try WinogradConvolution.applies(conv, inDims: [n, c, h, w], dataType: dataType, options: options) {
                    let blocked = { try DNNL.memoryDescriptor($0, dataType, dnnl_nChw8c) }
                    let source = try sourceSlot(op.input, try blocked([n, c, h, w]), index)
                    let destination = try destinationSlot(conv, try blocked(outDims), index, source: source,
                                                          input: inputSlot)
                    let layer = WinogradStep(conv: conv, inDims: [n, c, h, w],
                                             weights: weights.winograd(op: index, conv: conv))
                    steps.append(.winograd(layer, source: source, destination: destination))
                    KernelLog.shared.record(kind: "convolution", implementation: WinogradConvolution.implementationName)
                    valueSlot[op.output] = destination
                    dims[op.output] = [conv.outChannels, oh, ow]
                    continue
                }
                let residualDesc = conv.residual.map { slots[valueSlot[$0]!].desc }
                let pd = try SessionConvDesc.best(conv, src: sourceDesc, inDims: [n, c, h, w], dst: residualDesc,
                                                  outDims: outDims, dt: dataType, options: options)
                let source = try sourceSlot(op.input, DNNL.query(pd, dnnl_query_src_md), index)
                let destination = try destinationSlot(conv, DNNL.query(pd, dnnl_query_dst_md), index, source: source,
                                                      input: inputSlot)
                let (weightMemory, biasMemory) = try weights.memories(
                    op: index, conv: conv, weightsDesc: DNNL.query(pd, dnnl_query_weights_md), stream: stream)
                fixed.append(weightMemory)
                fixed.append(biasMemory)
                let primitive = try DNNLPrimitive(pd: pd, what: "convolution \(outDims)")
                steps.append(Step(primitive: primitive,
                                  args: [(DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, -fixed.count + 1),
                                         (DNNL_ARG_BIAS, -fixed.count), (DNNL_ARG_DST, destination)]))
                valueSlot[op.output] = destination
                dims[op.output] = [conv.outChannels, oh, ow]
            case let .maxPool(pool):
                let oh = (h + 2 * pool.padding - pool.kernel) / pool.stride + 1
                let ow = (w + 2 * pool.padding - pool.kernel) / pool.stride + 1
                let pd = try SessionPoolDesc.make(max: true, src: sourceDesc, outDims: [n, c, oh, ow],
                                                  kernel: (pool.kernel, pool.kernel), stride: pool.stride,
                                                  pad: pool.padding, dt: dataType)
                let source = try sourceSlot(op.input, DNNL.query(pd, dnnl_query_src_md), index)
                let destination = try newSlot(DNNL.query(pd, dnnl_query_dst_md), index)
                steps.append(Step(primitive: try DNNLPrimitive(pd: pd, what: "max pool"),
                                  args: [(DNNL_ARG_SRC, source), (DNNL_ARG_DST, destination)]))
                valueSlot[op.output] = destination
                dims[op.output] = [c, oh, ow]
            case .globalAvgPool:
                let pd = try SessionPoolDesc.make(max: false, src: sourceDesc, outDims: [n, c, 1, 1], kernel: (h, w),
                                                  stride: 1, pad: 0, dt: dataType)
                let source = try sourceSlot(op.input, DNNL.query(pd, dnnl_query_src_md), index)
                let destination = try newSlot(DNNL.query(pd, dnnl_query_dst_md), index)
                steps.append(Step(primitive: try DNNLPrimitive(pd: pd, what: "average pool"),
                                  args: [(DNNL_ARG_SRC, source), (DNNL_ARG_DST, destination)]))
                valueSlot[op.output] = destination
                dims[op.output] = [c, 1, 1]
            }
        }
        // Edge reorder into plain float32 NCHW.
        let outputDims = dims[program.outputValue]!
        let outputDesc = try DNNL.memoryDescriptor([n] + outputDims, dnnl_f32, dnnl_nchw)
        outputSlot = try newSlot(outputDesc, program.ops.count)
        let last = valueSlot[program.outputValue]!
        use(last, program.ops.count)
        steps.append(try reorder(last, outputSlot))
        outputShape = program.flatten ? [n, outputDims[0]] : [n] + outputDims

        self.slots = slots
        self.steps = steps
        self.fixed = fixed
        try allocate()
        execArgs = steps.map { step in
            step.args.map { kind, reference in
                let memory = reference >= 0 ? self.slots[reference].memory : self.fixed[-reference - 1]
                return dnnl_exec_arg_t(arg: kind, memory: memory.handle)
            }
        }
        try attachScratchpad()
    }

    private func attachScratchpad() throws {
        let winogradFloats = steps.compactMap { step -> Int? in
            if case let .winograd(layer, _, _) = step { return layer.scratchFloats }
            return nil
        }.max()
        if let floats = winogradFloats {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: floats * MemoryLayout<Float>.stride, alignment: 64)
            buffers.append(buffer)
            winogradScratch = buffer.bindMemory(to: Float.self, capacity: floats)
        }
        let largest = steps.compactMap { $0.primitive?.scratchpadBytes }.max() ?? 0
        guard largest > 0 else { return }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: largest, alignment: 64)
        buffers.append(buffer)
        scratchpad = buffer
        for (index, step) in steps.enumerated() {
            guard let primitive = step.primitive, primitive.scratchpadBytes > 0 else { continue }
            let memory = try DNNLMemory(primitive.scratchpad, pointer: buffer)
            scratchpadMemories.append(memory)
            execArgs[index].append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory.handle))
        }
    }

    /// Greedy buffer reuse by lifetime: a buffer is free again after its value's last reader.
    private func allocate() throws {
        func root(_ slot: Int) -> Int {
            var current = slot
            while let alias = slots[current].alias { current = alias }
            return current
        }
        for slot in slots.indices where slots[slot].alias != nil {
            let owner = root(slot)
            slots[owner].last = max(slots[owner].last, slots[slot].last)
        }
        var free: [(pointer: UnsafeMutableRawPointer, size: Int)] = []
        var owned: [Int: (pointer: UnsafeMutableRawPointer, size: Int)] = [:]
        let order = slots.indices.filter { $0 != inputSlot && slots[$0].alias == nil }
            .sorted { slots[$0].first < slots[$1].first }
        var releaseAt: [Int: [Int]] = [:]
        for slot in order { releaseAt[slots[slot].last, default: []].append(slot) }
        var released = Set<Int>()
        for slot in order {
            // Free buffers whose last use is before this slot's definition.
            for (step, ending) in releaseAt where step < slots[slot].first {
                for done in ending where !released.contains(done) {
                    if let buffer = owned[done] {
                        free.append(buffer)
                        released.insert(done)
                    }
                }
            }
            let size = max(DNNL.size(slots[slot].desc), 64)
            if let best = free.indices.filter({ free[$0].size >= size }).min(by: { free[$0].size < free[$1].size }) {
                owned[slot] = free.remove(at: best)
            } else {
                let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                buffers.append(pointer)
                owned[slot] = (pointer, size)
            }
            try slots[slot].memory.setPointer(owned[slot]!.pointer)
        }
        for slot in slots.indices where slots[slot].alias != nil {
            try slots[slot].memory.setPointer(owned[root(slot)]!.pointer)
        }
    }

    /// Runs the plan on a plain NCHW float32 batch and returns the plain output.
    func run(_ x: UnsafePointer<Float>) throws -> [Float] {
        try slots[inputSlot].memory.setPointer(UnsafeMutableRawPointer(mutating: x))
        for (step, args) in zip(steps, execArgs) {
            switch step {
            case let .primitive(primitive, _):
                try primitive.execute(args, on: stream)
            case let .winograd(layer, source, destination):
                // The kernel reads what the previous primitive wrote: wait for it (a no-op on oneDNN's CPU streams,
                // whose primitives finish inside execute, but not promised by its API).
                try dnnlCheck(dnnl_stream_wait(stream), "stream wait")
                layer.run(source: slots[source].memory.pointer!, destination: slots[destination].memory.pointer!,
                          scratch: winogradScratch!)
            }
        }
        try dnnlCheck(dnnl_stream_wait(stream), "stream wait")
        let count = outputShape.reduce(1, *)
        let output = slots[outputSlot].memory.pointer!.assumingMemoryBound(to: Float.self)
        return Array(UnsafeBufferPointer(start: output, count: count))
    }

    deinit { for buffer in buffers { buffer.deallocate() } }
}
