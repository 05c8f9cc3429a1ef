/// Rewrites an unfolded `Graph` into the fused op list the inference fast path runs:
/// conv (+ folded batch-norm) (+ residual sum) (+ ReLU/ReLU6), max pool, global average pool.
/// Values are named by the id of the graph node whose output they are.
enum FusedActivation { case relu, relu6 }

struct FusedConv {
    var weight: [Float]          // [out, in/groups, kh, kw], batch-norm folded in
    var bias: [Float]            // [out]
    var outChannels: Int, inChannels: Int, kernel: (h: Int, w: Int), stride: (h: Int, w: Int)
    var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int, groups: Int
    var activation: FusedActivation?
    /// Value added to the convolution's result before the activation (residual connection).
    var residual: Int?
}

enum FusedKind {
    case conv(FusedConv)
    case maxPool(PoolParams)
    case globalAvgPool
}

struct FusedOp {
    var kind: FusedKind
    var input: Int
    var output: Int
    /// Values this op reads (its input and, for a residual sum, the residual).
    var reads: [Int] {
        if case let .conv(c) = kind, let r = c.residual { return [input, r] }
        return [input]
    }
}

struct FusedProgram {
    var ops: [FusedOp]
    var inputNode: Int
    /// Value the session returns; `flatten` marks a final [N,C,1,1] -> [N,C] view.
    var outputValue: Int
    var flatten: Bool
}

enum Fusion {
    static func compile(_ graph: Graph) throws -> FusedProgram {
        let nodes = graph.nodes
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for n in nodes { for i in n.inputs { consumers[i].append(n.id) } }
        var value = [Int: Int]()          // graph node -> value id of the fused op that produced it
        var absorbed = Set<Int>()
        var ops: [FusedOp] = []
        var inputNode: Int?
        var flatten = false, outputValue = -1

        /// The single consumer of `id`, unless `id` is the graph output.
        func sole(_ id: Int) -> Node? {
            guard id != graph.output, consumers[id].count == 1 else { return nil }
            return nodes[consumers[id][0]]
        }
        func unsupported(_ n: Node, _ why: String) -> EngineError {
            .invalid("InferenceSession: cannot run node \(n.id) \(n.names.first.map { "'\($0)' " } ?? "")(\(n.op)): \(why)")
        }

        for n in nodes where !absorbed.contains(n.id) {
            switch n.op {
            case .input:
                guard inputNode == nil else { throw unsupported(n, "more than one input") }
                inputNode = n.id; value[n.id] = n.id
            case let .conv2d(p):
                var c = FusedConv(weight: p.weight.data, bias: p.bias?.data ?? .init(repeating: 0, count: p.outChannels),
                                  outChannels: p.outChannels, inChannels: p.inChannels, kernel: p.kernel, stride: p.stride,
                                  padTop: p.padTop, padLeft: p.padLeft, padBottom: p.padBottom, padRight: p.padRight,
                                  groups: p.groups, activation: nil, residual: nil)
                var cur = n.id
                if let next = sole(cur), case let .batchNorm(bn) = next.op {
                    fold(&c, bn); cur = next.id; absorbed.insert(cur)
                }
                if let next = sole(cur), case .add = next.op, next.inputs.count == 2 {
                    let other = next.inputs[0] == cur ? next.inputs[1] : next.inputs[0]
                    if let v = value[other] { c.residual = v; cur = next.id; absorbed.insert(cur) }
                }
                if let next = sole(cur) {
                    if case .relu = next.op { c.activation = .relu }
                    if case .relu6 = next.op { c.activation = .relu6 }
                    if c.activation != nil { cur = next.id; absorbed.insert(cur) }
                }
                guard let src = value[n.inputs[0]] else { throw unsupported(n, "input not computed") }
                ops.append(FusedOp(kind: .conv(c), input: src, output: cur))
                value[cur] = cur
            case let .maxPool(p):
                guard let src = value[n.inputs[0]] else { throw unsupported(n, "input not computed") }
                ops.append(FusedOp(kind: .maxPool(p), input: src, output: n.id)); value[n.id] = n.id
            case .globalAvgPool:
                guard let src = value[n.inputs[0]] else { throw unsupported(n, "input not computed") }
                ops.append(FusedOp(kind: .globalAvgPool, input: src, output: n.id)); value[n.id] = n.id
            case .flatten:
                guard n.id == graph.output, let src = value[n.inputs[0]],
                      let last = ops.last, last.output == src, case .globalAvgPool = last.kind
                else { throw unsupported(n, "flatten is supported only as the final op after global average pooling") }
                flatten = true; value[n.id] = src
            case .batchNorm: throw unsupported(n, "batch-norm not directly after a convolution")
            case .relu, .relu6: throw unsupported(n, "activation not after a convolution")
            case .add: throw unsupported(n, "residual add whose operands are not a convolution and an earlier value")
            case .linear: throw unsupported(n, "linear layers run outside the session (apply the head to its features)")
            }
        }
        guard let inp = inputNode else { throw EngineError.invalid("InferenceSession: the graph has no input") }
        guard let out = value[graph.output] else { throw EngineError.invalid("InferenceSession: graph output not computed") }
        outputValue = out
        return FusedProgram(ops: ops, inputNode: inp, outputValue: outputValue, flatten: flatten)
    }

    /// conv(x)*s + t: scale each output channel's weights and bias.
    static func fold(_ c: inout FusedConv, _ bn: BatchNormParams) {
        let (s, t) = bn.scaleShift
        let per = c.weight.count / c.outChannels
        var w = c.weight, b = c.bias
        w.withUnsafeMutableBufferPointer { w in
            for o in 0..<c.outChannels {
                for i in 0..<per { w[o * per + i] *= s[o] }
            }
        }
        for o in 0..<c.outChannels { b[o] = b[o] * s[o] + t[o] }
        c.weight = w; c.bias = b
    }
}
