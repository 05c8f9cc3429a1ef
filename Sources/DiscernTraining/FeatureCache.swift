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
        for (index, view) in views.enumerated() where view.shape != first.shape {
            throw TrainingError.shape("view \(index) has shape \(view.shape), view 0 has \(first.shape)")
        }
        self.views = views
        self.labels = labels
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
        let order = self.order(epoch: epoch, seed: seed)
        let view = viewIndices(epoch: epoch, seed: seed)
        let width = featureCount
        var out: [FeatureBatch] = []
        for start in stride(from: 0, to: count, by: batchSize) {
            let images = order[start..<min(start + batchSize, count)]
            var data = [Float]()
            data.reserveCapacity(images.count * width)
            for i in images { data.append(contentsOf: views[view[i]].data[i * width ..< (i + 1) * width]) }
            out.append(FeatureBatch(features: Tensor(shape: [images.count, width], data: data),
                                    labels: images.map { labels[$0] }))
        }
        return out
    }
}
