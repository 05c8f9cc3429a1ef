import DiscernEngine

/// The CAM's fast forward: the graph up to the latest cut before the target layer runs on the
/// fused `InferenceSession` (BN folded, blocked layouts — several times faster than the AutogradExecutor),
/// and only the rest (target layer → features) on an `AutogradExecutor` that records for the backward.
/// The target layer's activations and gradients are then the same as the full AutogradExecutor's, up to
/// float rounding of the fused prefix.
final class CAMSplitPath {
    let tail: AutogradExecutor
    let cut: Int
    private let session: InferenceSession
    /// The session's largest batch; bigger batches run through it in chunks.
    static let maxBatch = 32

    /// nil when there is no cut worth making (target at the start) or the fused session cannot run the prefix.
    init?(graph: Graph, layer: String) {
        guard let target = try? graph.node(named: layer), let cut = graph.latestCut(before: target),
            let parts = try? graph.split(after: cut),
            let session = try? InferenceSession(graph: parts.prefix, batchSize: Self.maxBatch)
        else { return nil }
        self.cut = cut
        self.session = session
        tail = AutogradExecutor(graph: parts.tail)
    }

    /// The prefix on the fused session (the cut node's value, [N,C,h,w]), then the tail on the AutogradExecutor.
    func forward(_ x: Tensor, taps: [String], record: Bool) throws -> AutogradExecutor.Forward {
        try tail.forward(try prefix(x), taps: taps, recordForBackward: record)
    }

    func prefix(_ x: Tensor) throws -> Tensor {
        let images = x.shape[0]
        if images <= Self.maxBatch { return try session.run(x) }
        let valuesPerImage = x.count / images
        var parts: [Tensor] = []
        var start = 0
        while start < images {
            let size = min(Self.maxBatch, images - start)
            let values = x.data[(start * valuesPerImage)..<((start + size) * valuesPerImage)]
            let chunk = Tensor(shape: [size] + Array(x.shape.dropFirst()), data: Array(values))
            parts.append(try session.run(chunk))
            start += size
        }
        var data: [Float] = []
        data.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { data.append(contentsOf: part.data) }
        return Tensor(shape: [images] + Array(parts[0].shape.dropFirst()), data: data)
    }
}
