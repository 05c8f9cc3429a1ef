import Foundation
import DiscernEngine
import DiscernVision

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

    enum Decoded: Sendable {
        case tensor(Tensor)
        case failed(String)
    }

    /// A decoded batch: the good images as one tensor, and every item's place in it (nil when it failed).
    struct Prepared {
        var items: [PathStream.Item]
        var rows: [Int?]
        var failures: [Int: String]
        var tensor: Tensor?
    }

    let service: DiscernModelService
    public var prefetch = 2

    public init(service: DiscernModelService) { self.service = service }

    /// Scores every item of `paths` whose index `skip` does not reject, calling `emit` in input order.
    public func run(_ paths: PathStream, skip: @escaping @Sendable (Int) -> Bool = { _ in false }, score: String?,
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
                if skip(item.index) { skipped.add(); continue }
                pending.append(item)
                if pending.count == batchSize { queue.put(prepare(pending)); pending.removeAll() }
            }
            if !pending.isEmpty && !queue.isCancelled { queue.put(prepare(pending)) }
            queue.finish()
        }
        defer { queue.cancel() }
        var summary = Summary()
        let start = Date()
        var lastReport = start
        while let batch = queue.take() {
            var predictions: [Prediction] = []
            if let tensor = batch.tensor {
                let names = batch.items.indices.filter { batch.rows[$0] != nil }.map { batch.items[$0].path }
                predictions = try service.predict(batch: tensor, names: names, score: score, threshold: threshold)
            }
            for (k, item) in batch.items.enumerated() {
                if let row = batch.rows[k] {
                    try emit(.scored(index: item.index, predictions[row])); summary.scored += 1
                } else {
                    try emit(.failed(index: item.index, path: item.path, reason: batch.failures[k] ?? "not scored"))
                    summary.failed += 1
                }
            }
            if Date().timeIntervalSince(lastReport) >= 10 {
                lastReport = Date()
                Study.log(String(format: "%d images scored, %d failed (%.1f images/s)", summary.scored, summary.failed,
                                 Double(summary.scored + summary.failed) / lastReport.timeIntervalSince(start)))
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        summary.skipped = skipped.value
        return summary
    }

    /// Decodes and resizes the items in parallel, one image per task.
    func prepare(_ items: [PathStream.Item]) -> Prepared {
        var decoded = [Decoded?](repeating: nil, count: items.count)
        decoded.withUnsafeMutableBufferPointer { out in
            // Each iteration writes only its own element: no two threads touch the same memory.
            nonisolated(unsafe) let buffer = out
            DispatchQueue.concurrentPerform(iterations: items.count) { k in
                do {
                    buffer[k] = .tensor(try service.tensor(ImageCodec.decodeFile(items[k].path, maxPixels: service.maxPixels)))
                } catch {
                    let reason = "\(error)"
                    buffer[k] = .failed(reason.hasPrefix(items[k].path) ? reason : "\(items[k].path): \(reason)")
                }
            }
        }
        var rows: [Int?] = [], failures: [Int: String] = [:], good: [Tensor] = []
        for (k, result) in decoded.enumerated() {
            switch result! {
            case let .tensor(t): rows.append(good.count); good.append(t)
            case let .failed(reason): rows.append(nil); failures[k] = reason
            }
        }
        return Prepared(items: items, rows: rows, failures: failures, tensor: good.isEmpty ? nil : Tensor.concatBatch(good))
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

    func finish() { condition.withLock { done = true; condition.broadcast() } }

    /// The consumer stopped (an error): the producer ends at its next batch.
    func cancel() { condition.withLock { cancelled = true; done = true; condition.broadcast() } }
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
