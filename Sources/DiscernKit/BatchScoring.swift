import Foundation
import DiscernEngine
import DiscernVision
import DiscernRobustness

/// `discern predict` over a stream of paths: a background producer decodes and resizes the next batches on all
/// cores (at most `prefetch` ahead, so memory stays flat) while the model scores the current one. Each image's
/// outcome is handed over in input order as soon as its batch is scored; a bad image is an outcome, not an error.
public final class BatchScoring: @unchecked Sendable {
    public enum Outcome {
        case scored(index: Int, Prediction)
        case failed(index: Int, path: String, reason: String)
    }

    public struct Summary: Sendable {
        public var scored = 0, failed = 0, skipped = 0
        public var seconds = 0.0
        public var imagesPerSecond: Double { seconds > 0 ? Double(scored + failed) / seconds : 0 }
    }

    /// A decoded batch: the good images as one tensor, and every item's place in it (nil when it failed).
    struct Prepared {
        var items: [PathStream.Item]
        var rows: [Int?]
        var failures: [Int: String]
        var tensor: Tensor?
        /// The decoded size of each good image, in the tensor's order.
        var sourceSizes: [PixelSize]
    }

    let service: DiscernModelService
    public var prefetch = 2

    public init(service: DiscernModelService) { self.service = service }

    /// Scores every item of `paths` whose index `skip` does not reject, calling `emit` in input order.
    public func run(_ paths: PathStream, skip: @escaping @Sendable (Int) -> Bool = { _ in false }, score: OODScoreKind?,
                    threshold: Double?, emit: (Outcome) throws -> Void) throws -> Summary {
        _ = try service.rule(score: score, threshold: threshold)      // a bad --score fails before any work
        let queue = PreparedQueue(limit: max(prefetch, 1))
        let batchSize = service.session.batchSize
        let source = UncheckedBox(paths)
        let skipped = Counter()
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            var pending: [PathStream.Item] = []
            while !queue.isCancelled {
                guard let item = source.value.next() else { break }
                if skip(item.index) {
                    skipped.add()
                    continue
                }
                pending.append(item)
                if pending.count == batchSize {
                    queue.put(prepare(pending))
                    pending.removeAll()
                }
            }
            if !pending.isEmpty && !queue.isCancelled { queue.put(prepare(pending)) }
            queue.finish()
        }
        defer { queue.cancel() }
        var summary = Summary()
        let start = Date()
        var lastReport = start
        // While the backbone runs batch k+1 on the forward thread, this thread scores and emits the batches
        // before it: the scores (kNN, Mahalanobis, ...) use one core, so overlapping them with the next forward
        // keeps both busy. Two batches are scored together: kNN's product repacks the whole training bank on
        // every call, so twice the queries per call halve that cost per image.
        let forward = DispatchQueue(label: "discern.predict.forward")
        let scoredTogether = 2
        var waiting: [(batch: Prepared, features: PendingFeatures?)] = []
        defer { for entry in waiting { entry.features?.waitForEnd() } }
        while true {
            let batch = queue.take()
            let features = batch?.tensor.map { tensor in PendingFeatures(on: forward) { [service] in
                try service.features(batch: tensor)
            } }
            if waiting.count == scoredTogether || (batch == nil && !waiting.isEmpty) {
                let group = waiting
                waiting = []
                defer { features?.waitForEnd() }      // one forward at a time, also when emitting fails
                try deliver(group, score: score, threshold: threshold, summary: &summary, emit: emit)
            }
            guard let batch else { break }
            waiting.append((batch, features))
            if Date().timeIntervalSince(lastReport) >= 10 {
                lastReport = Date()
                let rate = Double(summary.scored + summary.failed) / lastReport.timeIntervalSince(start)
                Study.log(String(format: "%d images scored, %d failed (%.1f images/s)", summary.scored,
                                 summary.failed, rate))
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        summary.skipped = skipped.value
        return summary
    }

    /// Scores decoded batches from their backbone features in one call and hands every item's outcome to
    /// `emit`, in order.
    private func deliver(_ group: [(batch: Prepared, features: PendingFeatures?)], score: OODScoreKind?,
                         threshold: Double?, summary: inout Summary, emit: (Outcome) throws -> Void) throws {
        var tensors: [Tensor] = [], names: [String] = [], sizes: [PixelSize] = []
        for (batch, features) in group {
            guard let features else { continue }
            tensors.append(try features.value())
            names += batch.items.indices.filter { batch.rows[$0] != nil }.map { batch.items[$0].path }
            sizes += batch.sourceSizes
        }
        let predictions = tensors.isEmpty ? [] : try service.predictions(
            features: Tensor.concatBatch(tensors), names: names, sourceSizes: sizes, score: score,
            threshold: threshold)
        var first = 0       // the group's row of this batch's first good image
        for (batch, _) in group {
            for (position, item) in batch.items.enumerated() {
                if let row = batch.rows[position] {
                    try emit(.scored(index: item.index, predictions[first + row]))
                    summary.scored += 1
                } else {
                    let reason = batch.failures[position] ?? "not scored"
                    try emit(.failed(index: item.index, path: item.path, reason: reason))
                    summary.failed += 1
                }
            }
            first += batch.sourceSizes.count
        }
    }

    /// Decodes and resizes the items in parallel, one image per task, each straight into its slot of the batch.
    func prepare(_ items: [PathStream.Item]) -> Prepared {
        let input = ModelInput(metadata: service.model.metadata)
        let slot = 3 * input.size * input.size
        var sizes = [PixelSize?](repeating: nil, count: items.count)
        var reasons = [String?](repeating: nil, count: items.count)
        let data = [Float](unsafeUninitializedCapacity: items.count * slot) { values, initialized in
            nonisolated(unsafe) let values = values
            sizes.withUnsafeMutableBufferPointer { sizeBuffer in
                reasons.withUnsafeMutableBufferPointer { reasonBuffer in
                    // Each iteration writes only its own slot and elements: no two threads touch the same memory.
                    nonisolated(unsafe) let sizeOut = sizeBuffer, reasonOut = reasonBuffer
                    DispatchQueue.concurrentPerform(iterations: items.count) { position in
                        let path = items[position].path
                        do {
                            let image = try ImageCodec.decodeFile(path, maxPixels: service.maxPixels)
                            input.write(image, into: values.baseAddress! + position * slot)
                            sizeOut[position] = PixelSize(image)
                        } catch {
                            let reason = "\(error)"
                            reasonOut[position] = reason.hasPrefix(path) ? reason : "\(path): \(reason)"
                        }
                    }
                }
            }
            // Failed images leave holes: move the good ones up so the batch holds only them, in order.
            var good = 0
            for position in items.indices where sizes[position] != nil {
                if good != position {
                    (values.baseAddress! + good * slot).update(from: values.baseAddress! + position * slot,
                                                               count: slot)
                }
                good += 1
            }
            initialized = good * slot
        }
        var rows: [Int?] = []
        var failures: [Int: String] = [:]
        var goodSizes: [PixelSize] = []
        for position in items.indices {
            if let size = sizes[position] {
                rows.append(goodSizes.count)
                goodSizes.append(size)
            } else {
                rows.append(nil)
                failures[position] = reasons[position] ?? "\(items[position].path): not decoded"
            }
        }
        let tensor = goodSizes.isEmpty ? nil : Tensor(shape: [goodSizes.count, 3, input.size, input.size], data: data)
        return Prepared(items: items, rows: rows, failures: failures, tensor: tensor, sourceSizes: goodSizes)
    }
}

/// The bounded hand-over between the decoding producer and the scoring consumer.
final class PreparedQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [BatchScoring.Prepared] = []
    private var done = false, cancelled = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    var isCancelled: Bool { condition.withLock { cancelled } }

    func put(_ batch: BatchScoring.Prepared) {
        condition.withLock {
            while ready.count >= limit && !cancelled { condition.wait() }
            if !cancelled { ready.append(batch) }
            condition.broadcast()
        }
    }

    func take() -> BatchScoring.Prepared? {
        condition.withLock {
            while ready.isEmpty && !done { condition.wait() }
            if ready.isEmpty { return nil }
            condition.broadcast()
            return ready.removeFirst()
        }
    }

    func finish() {
        condition.withLock {
            done = true
            condition.broadcast()
        }
    }

    /// The consumer stopped (an error): the producer ends at its next batch.
    func cancel() {
        condition.withLock {
            cancelled = true
            done = true
            condition.broadcast()
        }
    }
}

/// A forward pass running on another thread; `value()` waits for its features.
final class PendingFeatures: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Tensor, Error>?       // written once by the forward thread before `done` signals
    private var finished = false                     // touched only by the thread that waits

    init(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> Tensor) {
        queue.async { [self] in
            result = Result { try body() }
            done.signal()
        }
    }

    func waitForEnd() {
        guard !finished else { return }
        done.wait()
        finished = true
    }

    func value() throws -> Tensor {
        waitForEnd()
        guard let result else { throw KitError.invalid("forward pass ended without a result") }
        return try result.get()
    }
}

/// Counts from the producer, read once it has finished.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// A value handed to the producer thread, which is then its only user.
final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
