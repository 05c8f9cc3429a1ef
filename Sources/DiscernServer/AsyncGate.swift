/// One caller at a time through an async section, first come first served. Explanations record a
/// forward pass for the backward one, so the server never runs two of them on the model at once.
actor AsyncGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
        defer { release() }
        try Task.checkCancellation()   // the client is gone (timed out while waiting): skip the work
        return try await operation()
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
