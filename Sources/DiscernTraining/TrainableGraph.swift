import DiscernEngine

/// The parameter nodes of a graph that fine-tuning updates, each in a layer group (groups get their
/// own learning rate, earliest layers the smallest), and the arrays Adam sees: per node its weight,
/// then its bias when it has one (a BatchNorm's gamma and beta, as PyTorch's `weight` and `bias`).
public struct TrainableGraph: Sendable {
    public private(set) var graph: Graph
    /// Trainable node ids in graph order and the layer group of each.
    public let nodes: [Int]
    public let groups: [Int]

    public init(graph: Graph, nodes: [Int], groups: [Int]) throws {
        guard nodes.count == groups.count else {
            throw TrainingError.shape("\(nodes.count) trainable nodes but \(groups.count) layer groups")
        }
        for id in nodes where id < 0 || id >= graph.nodes.count || !graph.nodes[id].op.hasParameters {
            throw TrainingError.shape("node \(id) has no parameters to train")
        }
        let order = nodes.indices.sorted { nodes[$0] < nodes[$1] }
        self.graph = graph
        self.nodes = order.map { nodes[$0] }
        self.groups = order.map { groups[$0] }
    }

    /// Every parameter node from `first` on; the group of each is the index of the last `starts`
    /// entry at or before it (starts sorted, e.g. the first node of each unfrozen block).
    public init(graph: Graph, from first: Int, groupStarts starts: [Int]) throws {
        let ids = graph.nodes.filter { $0.id >= first && $0.op.hasParameters }.map(\.id)
        let groups = ids.map { id in max(0, starts.lastIndex { $0 <= id } ?? 0) }
        try self.init(graph: graph, nodes: ids, groups: groups)
    }

    public var groupCount: Int { (groups.max() ?? -1) + 1 }

    /// (weight, bias) of one parameter node; BatchNorm's as rank-1 tensors.
    static func parameters(_ op: Op) -> (weight: Tensor, bias: Tensor?) {
        switch op {
        case .conv2d(let params): return (params.weight, params.bias)
        case .batchNorm(let p):
            return (Tensor(shape: [p.gamma.count], data: p.gamma), Tensor(shape: [p.beta.count], data: p.beta))
        case .linear(let params): return (params.weight, params.bias)
        default: preconditionFailure("TrainableGraph: node without parameters")
        }
    }

    /// The arrays in Adam's order and the layer group of each.
    public var arrays: (values: [[Float]], groups: [Int]) {
        var values: [[Float]] = []
        var groupOf: [Int] = []
        for (id, group) in zip(nodes, groups) {
            let (weight, bias) = Self.parameters(graph.nodes[id].op)
            values.append(weight.data)
            groupOf.append(group)
            if let bias {
                values.append(bias.data)
                groupOf.append(group)
            }
        }
        return (values, groupOf)
    }

    /// Gradients in the same order as `arrays`.
    public func gradientArrays(_ gradients: [Int: ParameterGradient]) throws -> [[Float]] {
        var out: [[Float]] = []
        for id in nodes {
            guard let gradient = gradients[id] else { throw TrainingError.shape("no gradient for node \(id)") }
            out.append(gradient.weight.data)
            if Self.parameters(graph.nodes[id].op).bias != nil {
                out.append(gradient.bias?.data ?? [Float](repeating: 0, count: gradient.weight.shape[0]))
            }
        }
        return out
    }

    /// Writes updated arrays (the order of `arrays`) back into the graph.
    public mutating func apply(_ values: [[Float]]) throws {
        var next = 0
        func take() -> [Float] {
            defer { next += 1 }
            return values[next]
        }
        for id in nodes {
            let op: Op
            switch graph.nodes[id].op {
            case .conv2d(var params):
                params.weight.data = take()
                if params.bias != nil { params.bias!.data = take() }
                op = .conv2d(params)
            case .batchNorm(var params):
                params.gamma = take()
                params.beta = take()
                op = .batchNorm(params)
            case .linear(var params):
                params.weight.data = take()
                params.bias.data = take()
                op = .linear(params)
            default: continue
            }
            try graph.replaceOp(id, op)
        }
    }

    /// The trained parameters by PyTorch state-dict key (`<module path>.weight` / `.bias`).
    public var stateDict: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for id in nodes {
            guard let name = graph.nodes[id].names.first else { continue }
            let (weight, bias) = Self.parameters(graph.nodes[id].op)
            out[name + ".weight"] = weight
            if let bias { out[name + ".bias"] = bias }
        }
        return out
    }
}
