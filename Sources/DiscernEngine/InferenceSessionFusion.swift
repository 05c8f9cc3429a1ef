/// Rewrites an unfolded `Graph` into the fused op list the inference fast path runs:
/// conv (+ folded batch-norm) (+ residual sum) (+ ReLU/ReLU6), max pool, global average pool.
/// Values are named by the id of the graph node whose output they are.
enum FusedActivation {
    case relu
    case relu6
}

struct FusedConv {
    var weight: [Float]  // [out, in/groups, kh, kw], batch-norm folded in
    var bias: [Float]  // [out]
    var outChannels: Int
    var inChannels: Int
    var kernel: (h: Int, w: Int)
    var stride: (h: Int, w: Int)
    var padTop: Int
    var padLeft: Int
    var padBottom: Int
    var padRight: Int
    var groups: Int
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
        if case let .conv(conv) = kind, let residual = conv.residual { return [input, residual] }
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
        for node in nodes {
            for input in node.inputs { consumers[input].append(node.id) }
        }
        var value = [Int: Int]()  // graph node -> value id of the fused op that produced it
        var absorbed = Set<Int>()
        var ops: [FusedOp] = []
        var inputNode: Int?
        var flatten = false

        /// The single consumer of `id`, unless `id` is the graph output.
        func sole(_ id: Int) -> Node? {
            guard id != graph.output, consumers[id].count == 1 else { return nil }
            return nodes[consumers[id][0]]
        }
        func unsupported(_ node: Node, _ why: String) -> EngineError {
            let name = node.names.first.map { "'\($0)' " } ?? ""
            return .invalid("InferenceSession: cannot run node \(node.id) \(name)(\(node.op)): \(why)")
        }

        for node in nodes where !absorbed.contains(node.id) {
            switch node.op {
            case .input:
                guard inputNode == nil else { throw unsupported(node, "more than one input") }
                inputNode = node.id
                value[node.id] = node.id
            case let .conv2d(params):
                var conv = FusedConv(weight: params.weight.data,
                                     bias: params.bias?.data ?? .init(repeating: 0, count: params.outChannels),
                                     outChannels: params.outChannels, inChannels: params.inChannels,
                                     kernel: params.kernel, stride: params.stride,
                                     padTop: params.padTop, padLeft: params.padLeft, padBottom: params.padBottom,
                                     padRight: params.padRight, groups: params.groups, activation: nil, residual: nil)
                var current = node.id
                if let next = sole(current), case let .batchNorm(batchNorm) = next.op {
                    fold(&conv, batchNorm)
                    current = next.id
                    absorbed.insert(current)
                }
                if let next = sole(current), case .add = next.op, next.inputs.count == 2 {
                    let other = next.inputs[0] == current ? next.inputs[1] : next.inputs[0]
                    if let residual = value[other] {
                        conv.residual = residual
                        current = next.id
                        absorbed.insert(current)
                    }
                }
                if let next = sole(current) {
                    if case .relu = next.op { conv.activation = .relu }
                    if case .relu6 = next.op { conv.activation = .relu6 }
                    if conv.activation != nil {
                        current = next.id
                        absorbed.insert(current)
                    }
                }
                guard let source = value[node.inputs[0]] else { throw unsupported(node, "input not computed") }
                ops.append(FusedOp(kind: .conv(conv), input: source, output: current))
                value[current] = current
            case let .maxPool(params):
                guard let source = value[node.inputs[0]] else { throw unsupported(node, "input not computed") }
                ops.append(FusedOp(kind: .maxPool(params), input: source, output: node.id))
                value[node.id] = node.id
            case .globalAvgPool:
                guard let source = value[node.inputs[0]] else { throw unsupported(node, "input not computed") }
                ops.append(FusedOp(kind: .globalAvgPool, input: source, output: node.id))
                value[node.id] = node.id
            case .flatten:
                guard node.id == graph.output, let source = value[node.inputs[0]],
                    let last = ops.last, last.output == source, case .globalAvgPool = last.kind
                else {
                    throw unsupported(node, "flatten is supported only as the final op after global average pooling")
                }
                flatten = true
                value[node.id] = source
            case .batchNorm: throw unsupported(node, "batch-norm not directly after a convolution")
            case .relu, .relu6: throw unsupported(node, "activation not after a convolution")
            case .add: throw unsupported(node, "residual add whose operands are not a convolution and an earlier value")
            case .linear:
                throw unsupported(node, "linear layers run outside the session (apply the head to its features)")
            }
        }
        guard let inputNode else { throw EngineError.invalid("InferenceSession: the graph has no input") }
        guard let outputValue = value[graph.output] else {
            throw EngineError.invalid("InferenceSession: graph output not computed")
        }
        return FusedProgram(ops: ops, inputNode: inputNode, outputValue: outputValue, flatten: flatten)
    }

    /// conv(x)*s + t: scale each output channel's weights and bias.
    static func fold(_ conv: inout FusedConv, _ batchNorm: BatchNormParams) {
        let (scale, shift) = batchNorm.scaleShift
        let perChannel = conv.weight.count / conv.outChannels
        var weight = conv.weight
        var bias = conv.bias
        weight.withUnsafeMutableBufferPointer { weight in
            for o in 0..<conv.outChannels {
                for i in 0..<perChannel { weight[o * perChannel + i] *= scale[o] }
            }
        }
        for o in 0..<conv.outChannels { bias[o] = bias[o] * scale[o] + shift[o] }
        conv.weight = weight
        conv.bias = bias
    }
}
