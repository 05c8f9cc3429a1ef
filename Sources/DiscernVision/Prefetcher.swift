import Foundation

/// Bounded producer/consumer queue behind `BatchLoader.epoch`: a background task builds batches in order while
/// the consumer works; it stops early when the iterator is dropped.
final class Prefetcher: IteratorProtocol {
    /// Shared with the producer task; the iterator itself is not captured, so dropping it cancels production.
    /// Unchecked Sendable: every field is only touched while holding `cond`.
    final class State: @unchecked Sendable {
        let cond = NSCondition()
        var ready: [Result<BatchLoader.Batch, Error>] = []
        var cancelled = false
        var producerDone = false
    }
    private let loader: BatchLoader
    private let state = State()
    private var finished = false
    private let lastBatch: Int?

    init(loader: BatchLoader, epoch: Int, batches: [Int]) {
        self.loader = loader
        let order = loader.order(epoch: epoch)
        lastBatch = batches.last
        loader.epochStarted()
        let limit = max(loader.options.prefetch, 1)
        let shared = state
        DispatchQueue.global(qos: .userInitiated).async {
            for index in batches {
                shared.cond.lock()
                while shared.ready.count >= limit && !shared.cancelled { shared.cond.wait() }
                let stop = shared.cancelled
                shared.cond.unlock()
                if stop { break }
                let batch = Result { try loader.makeBatch(epoch: epoch, index: index, order: order) }
                shared.cond.lock()
                shared.ready.append(batch)
                shared.cond.broadcast()
                shared.cond.unlock()
            }
            shared.cond.lock()
            shared.producerDone = true
            shared.cond.broadcast()
            shared.cond.unlock()
        }
    }

    deinit {
        state.cond.lock()
        state.cancelled = true
        state.cond.broadcast()
        state.cond.unlock()
    }

    /// Next batch. A batch that fails as a whole (images of different sizes) ends the epoch and is recorded in
    /// `BatchLoader.failure`.
    func next() -> BatchLoader.Batch? {
        if finished { return nil }
        state.cond.lock()
        while state.ready.isEmpty && !state.producerDone { state.cond.wait() }
        if state.ready.isEmpty {
            finished = true
            state.cond.unlock()
            return nil
        }
        let next = state.ready.removeFirst()
        state.cond.broadcast()
        state.cond.unlock()
        switch next {
        case let .success(batch):
            loader.delivered(batch.labels.count, last: batch.index == lastBatch)
            return batch
        case let .failure(error):
            loader.failed("\(error)")
            finished = true
            return nil
        }
    }
}
