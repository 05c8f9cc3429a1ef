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
        let limit = max(loader.options.prefetch, 1), st = state
        DispatchQueue.global(qos: .userInitiated).async {
            for b in batches {
                st.cond.lock()
                while st.ready.count >= limit && !st.cancelled { st.cond.wait() }
                let stop = st.cancelled
                st.cond.unlock()
                if stop { break }
                let r = Result { try loader.makeBatch(epoch: epoch, index: b, order: order) }
                st.cond.lock()
                st.ready.append(r)
                st.cond.broadcast()
                st.cond.unlock()
            }
            st.cond.lock()
            st.producerDone = true
            st.cond.broadcast()
            st.cond.unlock()
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
        let r = state.ready.removeFirst()
        state.cond.broadcast()
        state.cond.unlock()
        switch r {
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
