import DiscernKit
import Foundation

/// The model behind the routes. `discern serve` starts listening first and loads the model afterwards, so a
/// cluster sees the process alive (`/v2/health/live`) before it is ready (`/v2/health/ready`).
public final class ModelSlot: @unchecked Sendable {
    public enum State: Sendable {
        case loading
        case ready(any PredictionService)
        case failed(String)
    }

    private let lock = NSLock()
    private var current: State

    /// A slot still waiting for its model.
    public init() { current = .loading }

    /// A slot holding a model that is already loaded.
    public init(service: any PredictionService) { current = .ready(service) }

    public var state: State { lock.withLock { current } }

    public var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    public func set(_ state: State) { lock.withLock { current = state } }

    /// The loaded model; while loading (or after a failed load) the request gets 503.
    func service() throws -> any PredictionService {
        switch state {
        case let .ready(service): return service
        case .loading: throw ServerError.unavailable("the model is still loading")
        case let .failed(message): throw ServerError.unavailable("the model failed to load: \(message)")
        }
    }
}
