import DiscernKit
import Foundation

/// Collects concurrent predict requests into one `service.predict` call (one forward pass).
///
/// A batch is sent when it holds `maxBatch` images or when its oldest request has waited
/// `maxDelay`, whichever comes first. One batch runs at a time; requests arriving meanwhile
/// form the next one. If a batch fails with a `ServiceError` (one bad image), each request of
/// it is retried alone so only the request holding the bad image gets the error.
public actor PredictionBatcher {
    public struct Result: Sendable {
        public var predictions: [Prediction]
        /// Images in the forward pass this request was part of.
        public var batchImages: Int
    }

    private struct Job {
        let id: UInt64
        let images: [ImageInput]
        let arrival: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result, Error>
    }

    /// What one forward pass did: its images, how long the service took, and its answers (for the metrics).
    public typealias BatchObserver = @Sendable (_ images: Int, _ duration: Duration,
                                                _ predictions: [Prediction]) -> Void

    private let predict: @Sendable ([ImageInput]) async throws -> [Prediction]
    private let observe: BatchObserver?
    private let maxBatch: Int
    private let maxDelay: Duration
    private var queue: [Job] = []
    private var draining = false
    private var wakeup: CheckedContinuation<Void, Never>?
    private var waitGeneration: UInt64 = 0
    private var nextID: UInt64 = 0

    public init(service: any PredictionService, maxBatch: Int, maxDelay: Duration) {
        self.init(maxBatch: maxBatch, maxDelay: maxDelay, observe: nil) { try await service.predict($0) }
    }

    /// `predict` is asked for the service on each batch, so the server can start before its model is loaded.
    public init(maxBatch: Int, maxDelay: Duration, observe: BatchObserver?,
                predict: @escaping @Sendable ([ImageInput]) async throws -> [Prediction]) {
        self.predict = predict
        self.observe = observe
        self.maxBatch = max(1, maxBatch)
        self.maxDelay = maxDelay
    }

    /// Predicts `images` as part of a shared batch; cancelling the caller removes a still-queued request.
    public func submit(_ images: [ImageInput]) async throws -> Result {
        if images.isEmpty { return Result(predictions: [], batchImages: 0) }
        nextID &+= 1
        let id = nextID
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Result, Error>) in
                enqueue(Job(id: id, images: images, arrival: .now, continuation: c))
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func enqueue(_ job: Job) {
        if Task.isCancelled {
            job.continuation.resume(throwing: CancellationError())
            return
        }
        queue.append(job)
        if queuedImages >= maxBatch { wake() }
        if !draining {
            draining = true
            Task { await self.drain() }
        }
    }

    private func cancel(_ id: UInt64) {
        guard let position = queue.firstIndex(where: { $0.id == id }) else { return }  // running: let it finish
        queue.remove(at: position).continuation.resume(throwing: CancellationError())
    }

    private var queuedImages: Int { queue.reduce(0) { $0 + $1.images.count } }

    private func wake(generation: UInt64? = nil) {
        if let generation, generation != waitGeneration { return }  // a stale timer
        wakeup?.resume()
        wakeup = nil
    }

    /// Waits until the queue holds a full batch or its oldest request's delay is over.
    private func waitForBatch() async {
        guard let oldest = queue.first, queuedImages < maxBatch else { return }
        let deadline = oldest.arrival + maxDelay
        if deadline <= .now { return }
        waitGeneration &+= 1
        let generation = waitGeneration
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.wake(generation: generation)
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in wakeup = c }
        timer.cancel()
    }

    private func drain() async {
        while !queue.isEmpty {
            await waitForBatch()
            var jobs: [Job] = []
            var count = 0
            while let job = queue.first, jobs.isEmpty || count + job.images.count <= maxBatch {
                jobs.append(queue.removeFirst())
                count += job.images.count
            }
            if !jobs.isEmpty { await run(jobs, count: count) }
        }
        draining = false
    }

    private func run(_ jobs: [Job], count: Int) async {
        do {
            let began = ContinuousClock.now
            let predictions = try await predict(jobs.flatMap(\.images))
            guard predictions.count == count else {
                throw ServerError.internal("service returned \(predictions.count) predictions for \(count) images")
            }
            observe?(count, ContinuousClock.now - began, predictions)
            var start = 0
            for job in jobs {
                let slice = Array(predictions[start..<start + job.images.count])
                start += job.images.count
                job.continuation.resume(returning: Result(predictions: slice, batchImages: count))
            }
        } catch let error as ServiceError where jobs.count > 1 {
            _ = error
            for job in jobs { await run([job], count: job.images.count) }
        } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
        }
    }
}
