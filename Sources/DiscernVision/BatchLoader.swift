import DiscernEngine
import Foundation

/// Batches of decoded, transformed, normalised images: reshuffled every epoch from a seed, decoded and
/// transformed on all cores, prepared `prefetch` batches ahead of the consumer. Unreadable images are
/// skipped (listed once in `skipped`) and never stop an epoch.
/// Unchecked Sendable: the epoch bookkeeping and the skip list are only touched under `lock`; the rest is
/// immutable.
public final class BatchLoader: @unchecked Sendable {
    public struct Options: Sendable {
        public var batchSize: Int
        public var seed: UInt64
        public var shuffle: Bool
        public var dropLast: Bool
        public var prefetch: Int
        /// Let libjpeg-turbo decode large JPEGs at a reduced scale (≥ `fastDecodeSize`); faster, not bit-exact vs PIL.
        public var fastDecode: Bool
        public var fastDecodeSize: Int
        public var mean: [Float]
        public var std: [Float]
        public var maxPixels: Int
        public init(
            batchSize: Int = 32, seed: UInt64 = 0, shuffle: Bool = true, dropLast: Bool = false, prefetch: Int = 2,
            fastDecode: Bool = false, fastDecodeSize: Int = 224,
            mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225],
            maxPixels: Int = ImageCodec.defaultMaxPixels
        ) {
            self.batchSize = batchSize
            self.seed = seed
            self.shuffle = shuffle
            self.dropLast = dropLast
            self.prefetch = prefetch
            self.fastDecode = fastDecode
            self.fastDecodeSize = fastDecodeSize
            self.mean = mean
            self.std = std
            self.maxPixels = maxPixels
        }
    }

    public struct Batch: Sendable {
        public let images: Tensor    // [n, 3, H, W], n ≤ batchSize (fewer when images were skipped)
        public let labels: [Int]
        public let paths: [String]
        public let index: Int        // batch number within the epoch
        /// Each image's position in the epoch order (its sample index when not shuffled).
        public let positions: [Int]
        /// Each image's size as decoded, before the transform.
        public let sourceSizes: [PixelSize]
    }

    public let samples: [ImageFolder.Sample]
    public let transform: any ImageTransform
    public let options: Options
    private let lock = NSLock()
    private var skippedList: [SkippedImage] = []
    private var badPaths: Set<String> = []
    private var epochImages = 0
    private var epochStart = Date()
    private var epochSeconds = 0.0
    private var failureMessage: String?

    public init(samples: [ImageFolder.Sample], transform: any ImageTransform, options: Options = Options()) throws {
        guard options.batchSize > 0 else {
            throw VisionError.invalidArgument("batch size must be positive, got \(options.batchSize)")
        }
        guard options.mean.count == 3, options.std.count == 3, !options.std.contains(0) else {
            throw VisionError.invalidArgument("mean and std need 3 values each and std must not be 0")
        }
        self.samples = samples
        self.transform = transform
        self.options = options
    }

    /// Images skipped so far, one entry per file.
    public var skipped: [SkippedImage] { lock.withLock { skippedList } }

    /// Why the last epoch stopped early, if it did (e.g. the transform gave images of different sizes).
    public var failure: String? { lock.withLock { failureMessage } }
    func failed(_ m: String) { lock.withLock { failureMessage = m } }

    /// Images per second delivered in the current (or last finished) epoch, wall clock.
    public var imagesPerSecond: Double {
        lock.withLock {
            let seconds = epochSeconds > 0 ? epochSeconds : Date().timeIntervalSince(epochStart)
            return seconds > 0 ? Double(epochImages) / seconds : 0
        }
    }

    /// The sample order for `epoch` (a seeded Fisher–Yates shuffle, or file order).
    public func order(epoch: Int) -> [Int] {
        var idx = Array(samples.indices)
        guard options.shuffle else { return idx }
        var rng = SplitMix64(seed: options.seed, UInt64(epoch), 0xFFFF_FFFF)
        for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, rng.int(0, i + 1)) }
        return idx
    }

    public func batchCount(epoch: Int = 0) -> Int {
        options.dropLast
            ? samples.count / options.batchSize : (samples.count + options.batchSize - 1) / options.batchSize
    }

    /// Decodes, transforms and normalises sample `k` of the epoch order into `out` (3·H·W floats).
    /// Returns the transformed image and the decoded one's size, or nil when the file was skipped.
    func load(_ sample: ImageFolder.Sample, epoch: Int, position: Int) -> (image: RGBImage, source: PixelSize)? {
        if lock.withLock({ badPaths.contains(sample.path) }) { return nil }
        do {
            let minSize = options.fastDecode ? (options.fastDecodeSize, options.fastDecodeSize) : nil
            let img = try ImageCodec.decodeFile(sample.path, maxPixels: options.maxPixels, minSize: minSize)
            var rng = SplitMix64(seed: options.seed, UInt64(epoch), UInt64(position))
            return (transform(img, rng: &rng), PixelSize(img))
        } catch {
            lock.withLock {
                if badPaths.insert(sample.path).inserted {
                    skippedList.append(SkippedImage(path: sample.path, reason: "\(error)"))
                }
            }
            return nil
        }
    }

    /// Builds batch `b` of `epoch` in parallel (one image per task).
    public func makeBatch(epoch: Int, index b: Int, order: [Int]) throws -> Batch {
        let lo = b * options.batchSize, hi = min(lo + options.batchSize, order.count)
        var loaded = [(image: RGBImage, source: PixelSize)?](repeating: nil, count: hi - lo)
        loaded.withUnsafeMutableBufferPointer { out in
            parallelForEach(hi - lo) { k in
                out[k] = self.load(self.samples[order[lo + k]], epoch: epoch, position: lo + k)
            }
        }
        let images = loaded.map { $0?.image }
        let good = (0 ..< images.count).filter { images[$0] != nil }
        guard let first = good.first.map({ images[$0]! }) else {
            return Batch(images: Tensor(zeros: [0, 3, 0, 0]), labels: [], paths: [], index: b, positions: [],
                         sourceSizes: [])
        }
        for k in good where images[k]!.width != first.width || images[k]!.height != first.height {
            throw VisionError.invalidArgument("batch images differ in size (\(first.width)x\(first.height) vs " +
                "\(images[k]!.width)x\(images[k]!.height)); end the transform with a fixed-size step")
        }
        let per = 3 * first.width * first.height
        var data = [Float](repeating: 0, count: per * good.count)
        data.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            parallelForEach(good.count) { j in
                toTensor(images[good[j]]!, mean: options.mean, std: options.std, into: base + j * per)
            }
        }
        return Batch(
            images: Tensor(shape: [good.count, 3, first.height, first.width], data: data),
            labels: good.map { samples[order[lo + $0]].label }, paths: good.map { samples[order[lo + $0]].path },
            index: b, positions: good.map { lo + $0 }, sourceSizes: good.map { loaded[$0]!.source })
    }

    /// The batches of one epoch, produced on a background queue up to `prefetch` ahead.
    public func epoch(_ e: Int) -> AnySequence<Batch> {
        AnySequence { Prefetcher(loader: self, epoch: e, batches: Array(0 ..< self.batchCount(epoch: e))) }
    }

    /// Only the listed batches of epoch `e`, in the given order: each is exactly the batch the whole epoch would
    /// hold at that number (same images, same augmentation draws), so a shard of batches reproduces its part.
    public func epoch(_ e: Int, batches: [Int]) -> AnySequence<Batch> {
        AnySequence { Prefetcher(loader: self, epoch: e, batches: batches) }
    }

    func epochStarted() {
        lock.withLock {
            failureMessage = nil
            epochImages = 0
            epochSeconds = 0
            epochStart = Date()
        }
    }
    func delivered(_ n: Int, last: Bool) {
        lock.withLock {
            epochImages += n
            if last { epochSeconds = Date().timeIntervalSince(epochStart) }
        }
    }
}
