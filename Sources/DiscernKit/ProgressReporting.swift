/// How far one long step is (images through the backbone, training batches, explained images).
public protocol ProgressTask: AnyObject, Sendable {
    func advance(_ count: Int, note: String)
    func finish(note: String)
}

extension ProgressTask {
    public func advance(_ count: Int = 1) { advance(count, note: "") }
    public func finish() { finish(note: "") }
}

/// Where the library reports its long steps. The library draws nothing itself: the CLI passes one that draws
/// progress bars on the terminal; tests and the server keep the silent default.
public protocol ProgressReporter: Sendable {
    /// A task of `total` units named `title` (e.g. "features (test)", 400 "img").
    func start(_ title: String, total: Int, unit: String) -> any ProgressTask
}

extension ProgressReporter {
    public func start(_ title: String, total: Int) -> any ProgressTask { start(title, total: total, unit: "img") }
}

/// Reports nothing.
public struct SilentProgress: ProgressReporter {
    public init() {}

    public func start(_ title: String, total: Int, unit: String) -> any ProgressTask { SilentTask() }

    private final class SilentTask: ProgressTask {
        func advance(_ count: Int, note: String) {}
        func finish(note: String) {}
    }
}
