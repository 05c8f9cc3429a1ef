import Foundation

/// Runs a `Graph` node by node on plain NCHW tensors (the reference/autograd path):
/// activations by module path, and gradients of a chosen output gradient with respect to them.
/// One forward/backward pair at a time: calls are serialised by a lock, and `backward`
/// always refers to the most recent recorded `forward`. Use one executor per thread.
/// Unchecked Sendable: the graph is immutable and the recorded forward is only touched under `lock`.
public final class AutogradExecutor: @unchecked Sendable {
    public let graph: Graph
    private let inputNode: Int?
    private let lock = NSLock()

    /// What backward needs from one node's forward, besides the graph's own parameters.
    enum Saved {
        case none
        case output(Tensor)
        case input(Tensor)
        case pool(MaxPoolWorkspace)
    }
    struct Record {
        var saved: [Saved]
        var shapes: [[Int]]
    }
    private var record: Record?
    /// Nodes whose input gradients the last backward computed (shows the early stop in tests).
    var lastBackwardSteps = 0

    /// Runs `body` on the last recorded forward, under the lock.
    func withRecord<T>(_ body: (Record) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let record else {
            throw EngineError.invalid("backward needs a preceding forward(_:taps:recordForBackward: true)")
        }
        return try body(record)
    }

    public init(graph: Graph) {
        self.graph = graph
        inputNode = graph.nodes.first(where: { if case .input = $0.op { return true } else { return false } })?.id
    }

    public struct Forward: Sendable {
        public let output: Tensor
        public let activations: [String: Tensor]
    }
    public struct Backward: Sendable {
        public let input: Tensor?
        public let gradients: [String: Tensor]
        /// Parameter gradients by node id, for the nodes `backward(parameters:)` asked for.
        public var parameters: [Int: ParameterGradient] = [:]
    }

    /// Node ids of the requested module paths (throws `unknownLayer` listing what exists).
    private func resolve(_ taps: [String]) throws -> [(String, Int)] {
        try taps.map { ($0, try graph.node(named: $0)) }
    }

    private func label(_ node: Node) -> String { node.names.first ?? "node \(node.id)" }

    /// Runs the graph; `taps` are module paths (Graph node names) whose outputs are returned.
    /// With recordForBackward the values backward needs are kept until the next forward;
    /// `parameters` (node ids) also keep their inputs, for their weight gradients.
    public func forward(_ x: Tensor, taps: [String] = [], recordForBackward: Bool = false,
                        parameters: Set<Int> = []) throws -> Forward {
        lock.lock()
        defer { lock.unlock() }
        record = nil
        guard let inputNode else { throw EngineError.invalid("graph has no input node") }
        let tapIDs = try resolve(taps)
        let tapSet = Set(tapIDs.map(\.1))
        let last = max(graph.output, tapIDs.map(\.1).max() ?? 0)
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes[...last] {
            for input in node.inputs { uses[input] += 1 }
        }

        var values = [Tensor?](repeating: nil, count: graph.nodes.count)
        var recorded = Record(saved: .init(repeating: .none, count: graph.nodes.count),
                              shapes: .init(repeating: [], count: graph.nodes.count))
        for node in graph.nodes[...last] {
            let args = node.inputs.map { values[$0]! }
            var out: Tensor
            do {
                switch node.op {
                case .input:
                    guard node.id == inputNode else { throw EngineError.invalid("graph has more than one input node") }
                    out = x
                case .conv2d(let params): out = try Ops.conv2d(args[0], params)
                case .batchNorm(let params): out = try Ops.batchNorm(args[0], params)
                case .relu: out = Ops.relu(args[0])
                case .relu6: out = Ops.relu6(args[0])
                case .maxPool(let params):
                    if recordForBackward {
                        let pooled = try Ops.maxPool2dWithWorkspace(args[0], params)
                        out = pooled.output
                        recorded.saved[node.id] = .pool(pooled.workspace)
                    } else {
                        out = try Ops.maxPool2d(args[0], params)
                    }
                case .globalAvgPool: out = try Ops.globalAvgPool(args[0])
                case .flatten: out = try Ops.flatten(args[0])
                case .linear(let params): out = try Ops.linear(args[0], params)
                case .add: out = try Ops.add(args[0], args[1])
                }
            } catch let error as EngineError {
                throw EngineError.invalid("\(label(node)): \(error)")
            }
            if recordForBackward {
                recorded.shapes[node.id] = out.shape
                if parameters.contains(node.id), node.op.hasParameters { recorded.saved[node.id] = .input(args[0]) }
                switch node.op {
                case .relu, .relu6: recorded.saved[node.id] = .output(out)
                default: break
                }
            }
            values[node.id] = out
            // Free inputs nobody else reads (taps and the output stay).
            for input in node.inputs {
                uses[input] -= 1
                if uses[input] == 0, !tapSet.contains(input), input != graph.output { values[input] = nil }
            }
        }
        if recordForBackward { record = recorded }
        var activations: [String: Tensor] = [:]
        for (name, id) in tapIDs { activations[name] = values[id]! }
        return Forward(output: values[graph.output]!, activations: activations)
    }
}
