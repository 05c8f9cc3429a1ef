/// Cutting a `Graph` in two at a node every later path goes through, so the part before the
/// cut can run on the fused `InferenceSession` and only the part after it on the autograd
/// `AutogradExecutor` (a CAM needs taps and gradients only from its target layer on).
extension Graph {
    /// Splits after node `cut`: `prefix` holds nodes 0...cut with `cut` as its output; `tail`
    /// holds the later nodes, renumbered, with a new `.input` node (carrying `cut`'s names) standing
    /// for `cut`'s value. Module-path names are kept, so taps and `node(named:)` work on either part.
    /// Throws unless `cut` is a valid cut (see `isValidCut`).
    public func split(after cut: Int) throws -> (prefix: Graph, tail: Graph) {
        guard isValidCut(cut) else {
            throw EngineError.invalid(
                "Graph.split: node \(cut) is not a valid cut (out of range, at or after the output, "
                    + "or a later node reads an earlier one)")
        }
        var prefix = Graph()
        for node in nodes[...cut] { prefix.add(node.op, node.inputs, names: node.names) }
        prefix.output = cut

        var tail = Graph()
        tail.add(.input, [], names: nodes[cut].names)
        for node in nodes[(cut + 1)...] { tail.add(node.op, node.inputs.map { $0 - cut }, names: node.names) }
        tail.output = output - cut
        return (prefix, tail)
    }

    /// Whether every node after `cut` reads only `cut` or nodes after it, the graph's input is at or
    /// before `cut`, and the graph's output comes after it.
    public func isValidCut(_ cut: Int) -> Bool {
        guard cut >= 0, cut < output, output < nodes.count else { return false }
        guard let input = nodes.firstIndex(where: { if case .input = $0.op { return true } else { return false } }),
              input <= cut else { return false }
        for node in nodes[(cut + 1)...] where node.inputs.contains(where: { $0 < cut }) { return false }
        for node in nodes[(cut + 1)...] {
            if case .input = node.op { return false }
        }
        return true
    }

    /// The latest valid cut strictly before `target`, or nil when there is none or it is the graph's
    /// input itself (nothing worth running apart). For a residual block's output (the ReLU of the sum)
    /// that is the sum; for a layer inside a block, the previous block's output.
    public func latestCut(before target: Int) -> Int? {
        guard target > 0, target <= output, target < nodes.count else { return nil }
        // An edge i -> j (i < j) forbids every cut strictly between i and j.
        var blocked = [Bool](repeating: false, count: target)
        for node in nodes where node.id > 0 {
            let upper = min(node.id, target)
            for input in node.inputs where input + 1 < upper {
                for between in (input + 1)..<upper { blocked[between] = true }
            }
        }
        var cut = target - 1
        while cut >= 0 {
            if !blocked[cut] && isValidCut(cut) {
                if case .input = nodes[cut].op { return nil }
                return cut
            }
            cut -= 1
        }
        return nil
    }
}
