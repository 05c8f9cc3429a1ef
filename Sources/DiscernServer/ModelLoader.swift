import DiscernKit
import Foundation
import Logging
import ServiceLifecycle

/// Loads (and warms up) the model once the listener runs, so `/v2/health/live` answers while readiness is still
/// false. A failed load stops the server with the error. After loading it waits for the shutdown: a service that
/// returned would stop the whole group.
struct ModelLoader: Service {
    typealias Loaded = Result<any PredictionService, Error>

    let slot: ModelSlot
    let metrics: ServerMetrics
    let logger: Logger
    let listening: AsyncStream<Void>
    let load: @Sendable () throws -> any PredictionService

    func run() async throws {
        for await _ in listening.cancelOnGracefulShutdown() { break }
        if Task.isShuttingDownGracefully || Task.isCancelled { return }
        let start = ContinuousClock.now
        // A thread of its own: loading and the warm-up pass would otherwise hold a thread of the small shared pool.
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Loaded, Never>) in
            Thread.detachNewThread { continuation.resume(returning: Result { try load() }) }
        }
        switch result {
        case let .success(service):
            slot.set(.ready(service))
            metrics.modelReady()
            logger.info("model ready", metadata: ["ms": "\(String(format: "%.0f", milliseconds(since: start)))"])
        case let .failure(error):
            slot.set(.failed("\(error)"))
            throw error
        }
        try? await gracefulShutdown()
    }
}
