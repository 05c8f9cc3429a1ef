/// A network as a small dataflow graph in its *unfolded* PyTorch form
/// (conv, batch-norm, relu as separate nodes), named by PyTorch module paths.
/// Model builders produce it; two executors run it: `AutogradExecutor` (plain NCHW, node by node,
/// for taps and gradients) and the fused, blocked `InferenceSession` (for speed).

public struct Conv2dParams: Sendable {
    public var weight: Tensor          // [out, in/groups, kh, kw]
    public var bias: Tensor?           // [out]
    public var stride: (h: Int, w: Int)
    /// Explicit padding; TensorFlow "same" padding on stride 2 is asymmetric (more at bottom/right).
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var groups: Int

    public init(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
        self.init(weight: weight, bias: bias, stride: (stride, stride),
                  pad: (padding, padding, padding, padding), groups: groups)
    }

    public init(
        weight: Tensor, bias: Tensor?, stride: (Int, Int), pad: (top: Int, left: Int, bottom: Int, right: Int),
        groups: Int
    ) {
        precondition(weight.rank == 4, "Conv2d weight must be 4-D, got \(weight.shape)")
        self.weight = weight
        self.bias = bias
        self.stride = (stride.0, stride.1)
        self.padTop = pad.top
        self.padLeft = pad.left
        self.padBottom = pad.bottom
        self.padRight = pad.right
        self.groups = groups
    }

    public var outChannels: Int { weight.shape[0] }
    public var inChannels: Int { weight.shape[1] * groups }
    public var kernel: (h: Int, w: Int) { (weight.shape[2], weight.shape[3]) }
}

public struct BatchNormParams: Sendable {
    public var gamma: [Float]
    public var beta: [Float]
    public var mean: [Float]
    public var variance: [Float]
    public var eps: Float
    public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float = 1e-5) {
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.variance = variance
        self.eps = eps
    }
    /// y = x * scale + shift (inference mode).
    public var scaleShift: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: gamma.count)
        var shift = scale
        for c in 0..<gamma.count {
            scale[c] = gamma[c] / (variance[c] + eps).squareRoot()
            shift[c] = beta[c] - mean[c] * scale[c]
        }
        return (scale, shift)
    }
}

public struct PoolParams: Sendable {
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public init(kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }
}

public enum Op: Sendable {
    case input
    case conv2d(Conv2dParams)
    case batchNorm(BatchNormParams)
    case relu
    case relu6
    case maxPool(PoolParams)
    case globalAvgPool          // [N,C,H,W] -> [N,C,1,1]
    case flatten                // [N,...] -> [N, rest]
    case linear(LinearParams)   // [N,in] -> [N,out]
    case add                    // two inputs, same shape
}

public struct Node: Sendable {
    public let id: Int
    public var op: Op
    public var inputs: [Int]
    /// PyTorch module paths whose output this node is (e.g. a bottleneck's last ReLU is
    /// both `layer4.2` and `layer4`). Empty for anonymous glue.
    public var names: [String]
}

public struct Graph: Sendable {
    public private(set) var nodes: [Node] = []
    /// The node whose value is the graph's result.
    public var output: Int = 0

    public init() {}

    @discardableResult
    public mutating func add(_ op: Op, _ inputs: [Int], names: [String] = []) -> Int {
        for input in inputs { precondition(input < nodes.count, "Graph: input \(input) does not exist yet") }
        let id = nodes.count
        nodes.append(Node(id: id, op: op, inputs: inputs, names: names))
        output = id
        return id
    }

    public mutating func input() -> Int { add(.input, []) }

    /// Swaps a node's op (checked by `replaceOp`).
    mutating func setOp(_ id: Int, _ op: Op) { nodes[id].op = op }

    /// Gives node `id` one more module-path name.
    public mutating func name(_ id: Int, _ name: String) { nodes[id].names.append(name) }

    /// The node a module path names; the error lists what exists.
    public func node(named name: String) throws -> Int {
        if let node = nodes.last(where: { $0.names.contains(name) }) { return node.id }
        throw EngineError.unknownLayer(name, available: layerNames)
    }

    public var layerNames: [String] { nodes.flatMap(\.names) }

    /// Nodes that read node `id`.
    public func consumers(of id: Int) -> [Int] { nodes.filter { $0.inputs.contains(id) }.map(\.id) }
}
