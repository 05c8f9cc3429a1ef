import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision

/// Penultimate features of a set of images, with the labels and paths of the images that decoded.
public struct FeatureSet: Sendable {
    public var features: Tensor          // [n, F]
    public var labels: [Int]
    public var paths: [String]
    public var skipped: [SkippedImage]
    /// Each image's decoded size (before any transform), for the low-resolution verdict.
    public var sourceSizes: [PixelSize]
    public var count: Int { labels.count }
    public var shortSides: [Int] { sourceSizes.map(\.shortSide) }
}

/// Which transform a feature extraction applies before the backbone.
public enum FeatureView: String, Sendable {
    /// The test-time Resize((s, s)).
    case evaluation = "test"
    /// The study's training augmentation.
    case training = "augment"
    /// A `PhotoShift` (recompressed, smaller, blurred, recoloured or cropped copy), then the Resize.
    case shifted = "shifted"
    /// A `PhotoShift` thumbnail (24–40 px), then the Resize.
    case thumbnail = "thumbnail"
    /// A `PhotoShift` detail (an enlarged close-up), then the Resize: a proxy for photos of other things.
    case detail = "detail"
    /// The study's training augmentation, then one or two `RandomPhotoDegradation`s on every image.
    case degraded = "degraded"
}

/// Runs the frozen backbone over images: decoding and transforms on a prefetching loader overlap
/// the forward passes of the fused inference session.
public final class FeatureExtractor: @unchecked Sendable {
    public let backbone: Backbone
    public let session: InferenceSession
    public let batchSize: Int
    /// Where each extraction reports the images it has done.
    public let progress: any ProgressReporter

    public var fastDecode = false

    public init(backbone: Backbone, batchSize: Int = 32, precision: Precision = .fp32,
                progress: any ProgressReporter = SilentProgress()) throws {
        self.backbone = backbone
        self.batchSize = batchSize
        self.progress = progress
        session = try InferenceSession(graph: backbone.graph, batchSize: batchSize, precision: precision)
    }

    public func transform(_ view: FeatureView) -> any ImageTransform {
        switch view {
        case .evaluation: return ModelInput(backbone: backbone).evaluation
        case .training: return Compose.training(size: backbone.inputSize)
        case .shifted: return PhotoShift(size: backbone.inputSize)
        case .thumbnail: return PhotoShift(size: backbone.inputSize, kinds: [.thumbnail])
        case .detail: return PhotoShift(size: backbone.inputSize, kinds: [.detail])
        case .degraded: return Compose.training(size: backbone.inputSize, degradation: 1)
        }
    }

    /// Training images streamed through the loader (fresh every epoch): the study's augmentation, then a photo
    /// degradation with `probability`.
    public func streamedTraining(degradation probability: Double) -> any ImageTransform {
        Compose.training(size: backbone.inputSize, degradation: probability)
    }

    /// Features of `samples` in their given order. `view` selects a fresh random augmentation
    /// (each view draws its own parameters per image from `seed`).
    public func extract(_ samples: [ImageFolder.Sample], augment: Bool, view: Int = 0, seed: UInt64 = 0,
                        title: String) throws -> FeatureSet {
        try extract(samples, transform: augment ? .training : .evaluation, view: view, seed: seed, title: title)
    }

    public func extract(_ samples: [ImageFolder.Sample], transform kind: FeatureView, view: Int = 0,
                        seed: UInt64 = 0, title: String) throws -> FeatureSet {
        try extract(samples, transform: kind, view: view, seed: seed, batches: nil, title: title).set
    }

    /// Features of the listed batches only (nil = all): each batch holds the images, and draws the augmentation,
    /// it holds in a whole extraction, so the shards of `discern features` together give exactly its result.
    /// `positions` are the rows' indices in `samples`.
    func extract(_ samples: [ImageFolder.Sample], transform kind: FeatureView, view: Int, seed: UInt64,
                 batches: [Int]?, title: String) throws -> (set: FeatureSet, positions: [Int]) {
        let options = ModelInput(backbone: backbone).loaderOptions(batchSize: batchSize, seed: seed, shuffle: false,
                                                                   fastDecode: fastDecode)
        let loader = try BatchLoader(samples: samples, transform: transform(kind), options: options)
        let list = batches ?? Array(0 ..< loader.batchCount())
        func size(_ batch: Int) -> Int { min((batch + 1) * batchSize, samples.count) - batch * batchSize }
        let task = progress.start(title, total: list.map(size).reduce(0, +))
        var data = [Float]()
        data.reserveCapacity(samples.count * backbone.featureCount)
        var labels: [Int] = [], paths: [String] = [], positions: [Int] = [], sizes: [PixelSize] = []
        for batch in loader.epoch(view, batches: list) {
            if batch.labels.count > 0 {
                data.append(contentsOf: try session.run(batch.images).data)
                labels += batch.labels
                paths += batch.paths
                positions += batch.positions
                sizes += batch.sourceSizes
            }
            // Count the images the batch was meant to hold, skipped ones included.
            task.advance(size(batch.index))
        }
        if let failure = loader.failure { throw KitError.invalid("\(title): \(failure)") }
        task.finish()
        let set = FeatureSet(features: Tensor(shape: [labels.count, backbone.featureCount], data: data),
                             labels: labels, paths: paths, skipped: loader.skipped, sourceSizes: sizes)
        return (set, positions)
    }
}
