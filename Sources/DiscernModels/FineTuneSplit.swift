import DiscernEngine

/// Where fine-tuning cuts a backbone: the frozen `prefix` (run on the fused inference session, its
/// output cached or streamed), the trainable `tail` whose input stands for the prefix's output, and
/// the tail's layer groups (one per unfrozen block, one more for layers after the last block, such
/// as EfficientNet's `_conv_head`), each group starting at its first parameter node.
public struct FineTuneSplit: Sendable {
    /// nil when everything, the stem included, is unfrozen.
    public let prefix: Graph?
    public let tail: Graph
    /// First trainable node of the tail and the first node of each layer group, ascending.
    public let groupStarts: [Int]
    public var firstTrainable: Int { groupStarts[0] }
}

extension Backbone {
    /// The module paths of the backbone's blocks in order (`_blocks.0`…, `layer1.0`…).
    public var blockNames: [String] {
        graph.layerNames.filter { name in
            let parts = name.split(separator: ".")
            guard parts.count == 2, Int(parts[1]) != nil else { return false }
            return parts[0] == "_blocks" || (parts[0].hasPrefix("layer") && Int(parts[0].dropFirst(5)) != nil)
        }
    }

    /// Unfreezes the last `blocks` blocks and everything after them (nil or at least the block count:
    /// every layer).
    public func fineTuneSplit(unfreezing blocks: Int?) throws -> FineTuneSplit {
        let names = blockNames
        guard !names.isEmpty else { throw EngineError.invalid("\(kind.rawValue) has no named blocks to unfreeze") }
        guard (blocks ?? 1) >= 1 else { throw EngineError.invalid("unfreeze at least one block, got \(blocks ?? 0)") }
        let count = min(blocks ?? names.count, names.count)
        let first = names.count - count
        let whole = count == names.count
        let prefix: Graph?, tail: Graph
        if whole {
            prefix = nil
            tail = graph
        } else {
            (prefix, tail) = try graph.split(after: try graph.node(named: names[first - 1]))
        }
        // A group starts at the first parameter node after the previous block's output (the tail's
        // input for the first one; with everything unfrozen the stem joins the first block's group).
        let boundaries = try [0] + names[first...].map { try tail.node(named: $0) }
        let starts = boundaries.compactMap { end in tail.nodes.first { $0.id > end && $0.op.hasParameters }?.id }
        guard !starts.isEmpty else { throw EngineError.invalid("nothing to train after \(names[first])") }
        return FineTuneSplit(prefix: prefix, tail: tail, groupStarts: starts)
    }
}
