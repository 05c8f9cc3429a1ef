extension AutogradExecutor {
    /// Backpropagates `outputGradient` (shape of the output) through the last recorded forward.
    /// `gradients[name]` = d(scalar)/d(activation of that tap). Stops as early as it can when
    /// wantInput is false. guidedReLU: ReLU/ReLU6 pass only positive gradients where the input was positive.
    /// `parameters`: node ids (recorded by the forward) whose weight gradients are returned.
    public func backward(outputGradient: Tensor, taps: [String] = [], wantInput: Bool = false, guidedReLU: Bool = false,
                         parameters: Set<Int> = []) throws -> Backward {
        try withRecord { recorded in
            try outputGradient.expectShape(recorded.shapes[graph.output], "output gradient")
            let tapIDs = try taps.map { ($0, try graph.node(named: $0)) }
            guard
                let inputID = graph.nodes.first(where: { if case .input = $0.op { return true } else { return false } }
                )?.id
            else {
                throw EngineError.invalid("graph has no input node")
            }
            // Every gradient below node `stop` is unwanted; a node's gradient is complete once all
            // higher-numbered nodes (its consumers) have been processed.
            let wanted = tapIDs.map(\.1) + (wantInput ? [inputID] : []) + Array(parameters)
            guard let stop = wanted.min() else { return Backward(input: nil, gradients: [:]) }
            var parameterGradients: [Int: ParameterGradient] = [:]
            let tapSet = Set(tapIDs.map(\.1))

            var gradients = [Tensor?](repeating: nil, count: graph.nodes.count)
            var kept: [Int: Tensor] = [:]
            gradients[graph.output] = outputGradient
            lastBackwardSteps = 0
            for id in stride(from: graph.output, through: stop, by: -1) {
                guard let gradient = gradients[id] else { continue }
                gradients[id] = nil
                if tapSet.contains(id) || (wantInput && id == inputID) { kept[id] = gradient }
                let node = graph.nodes[id]
                if parameters.contains(id) {
                    do {
                        parameterGradients[id] = try parameterGradient(node, gradient, recorded)
                    } catch let error as EngineError {
                        throw EngineError.invalid("\(node.names.first ?? "node \(id)") weight gradient: \(error)")
                    }
                }
                let live = node.inputs.filter { $0 >= stop }
                if live.isEmpty { continue }
                lastBackwardSteps += 1
                let inputGradients: [Tensor]
                do {
                    inputGradients = try self.inputGradients(node, gradient, recorded, guided: guidedReLU)
                } catch let error as EngineError {
                    throw EngineError.invalid("\(node.names.first ?? "node \(id)") backward: \(error)")
                }
                for (position, input) in node.inputs.enumerated() where input >= stop {
                    let added = inputGradients[position]
                    gradients[input] = try gradients[input].map { try Ops.add($0, added) } ?? added
                }
            }
            // A tap the output does not depend on has a zero gradient.
            func value(_ id: Int) -> Tensor { kept[id] ?? Tensor(zeros: recorded.shapes[id]) }
            var out: [String: Tensor] = [:]
            for (name, id) in tapIDs { out[name] = value(id) }
            return Backward(input: wantInput ? value(inputID) : nil, gradients: out, parameters: parameterGradients)
        }
    }

    /// Weight (and bias) gradient of a parameter node from its recorded input.
    private func parameterGradient(_ node: Node, _ g: Tensor, _ recorded: Record) throws -> ParameterGradient {
        guard case .input(let x) = recorded.saved[node.id] else {
            throw EngineError.invalid("the forward did not record this node's input (pass it in forward(parameters:))")
        }
        switch node.op {
        case .conv2d(let params):
            let gradients = try Ops.conv2dBackwardWeights(g, input: x, params)
            return ParameterGradient(weight: gradients.weight, bias: gradients.bias)
        case .batchNorm(let params): return try Ops.batchNormBackwardParameters(g, input: x, params)
        case .linear(let params):
            let gradients = try Ops.linearBackwardParameters(g, input: x, params)
            return ParameterGradient(weight: gradients.weight, bias: gradients.bias)
        default: throw EngineError.invalid("this op has no parameters")
        }
    }

    /// Gradients with respect to each of `node`'s inputs, given the gradient at its output.
    private func inputGradients(_ node: Node, _ g: Tensor, _ recorded: Record, guided: Bool) throws -> [Tensor] {
        let inShape = { recorded.shapes[node.inputs[0]] }
        switch node.op {
        case .input: return []
        case .conv2d(let params): return [try Ops.conv2dBackwardData(g, params, inputShape: inShape())]
        case .batchNorm(let params): return [try Ops.batchNormBackward(g, params)]
        case .relu, .relu6:
            guard case .output(let y) = recorded.saved[node.id] else {
                throw EngineError.invalid("missing recorded activation")
            }
            if case .relu = node.op { return [try Ops.reluBackward(g, output: y, guided: guided)] }
            return [try Ops.relu6Backward(g, output: y, guided: guided)]
        case .maxPool:
            guard case .pool(let workspace) = recorded.saved[node.id] else {
                throw EngineError.invalid("missing recorded max-pool workspace")
            }
            return [try Ops.maxPool2dBackward(g, workspace)]
        case .globalAvgPool: return [try Ops.globalAvgPoolBackward(g, inputShape: inShape())]
        case .flatten: return [g.reshaped(inShape())]
        case .linear(let params): return [try Ops.linearBackwardInput(g, params)]
        case .add: return [g, g]
        }
    }
}
