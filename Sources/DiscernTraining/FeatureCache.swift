import DiscernEngine

/// Features of K augmented views of every training image, computed once (the backbone is frozen).
///
/// Each epoch uses exactly one view per image, so an epoch has as many samples and iterations
/// as the study's per-epoch augmentation: image i uses view (epoch + offsetᵢ) mod K, with a
/// seeded random offset per image. Every view is used equally often and a batch mixes views.
/// The order of images is reshuffled every epoch from the seed.
public struct FeatureCache: Sendable {
    public let views: [Tensor]      // K tensors, each [count, featureCount]
    public let labels: [Int]
    public var count: Int { labels.count }
    public var featureCount: Int { views[0].shape[1] }

    public init(views: [Tensor], labels: [Int]) throws {
        guard let first = views.first else { throw TrainingError.empty("feature cache needs at least one view") }
        guard first.rank == 2, first.shape[0] == labels.count, !labels.isEmpty else {
            throw TrainingError.shape("cached features \(first.shape) do not match \(labels.count) labels")
        }
        for (k, v) in views.enumerated() where v.shape != first.shape {
            throw TrainingError.shape("view \(k) has shape \(v.shape), view 0 has \(first.shape)")
        }
        self.views = views; self.labels = labels
    }

    /// The view each image uses in `epoch`.
    public func viewIndices(epoch: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed ^ 0x5EED_0FF5)
        return (0..<count).map { _ in (rng.nextInt(below: views.count) + epoch) % views.count }
    }

    /// The shuffled image order of `epoch`.
    public func order(epoch: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        return rng.permutation(count)
    }

    public func batches(epoch: Int, batchSize: Int, seed: UInt64) throws -> [FeatureBatch] {
        guard batchSize > 0 else { throw TrainingError.shape("batch size must be positive, got \(batchSize)") }
        let order = order(epoch: epoch, seed: seed), view = viewIndices(epoch: epoch, seed: seed)
        let f = featureCount
        var out: [FeatureBatch] = []
        for s in stride(from: 0, to: count, by: batchSize) {
            let idx = order[s..<min(s + batchSize, count)]
            var data = [Float](); data.reserveCapacity(idx.count * f)
            for i in idx { data.append(contentsOf: views[view[i]].data[i * f ..< (i + 1) * f]) }
            out.append(FeatureBatch(features: Tensor(shape: [idx.count, f], data: data), labels: idx.map { labels[$0] }))
        }
        return out
    }
}
