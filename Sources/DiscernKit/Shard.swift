import Foundation

/// One share of a job's work: item `i` belongs to shard `index` when `i % count == index`.
/// Kubernetes gives each pod of an Indexed Job its `JOB_COMPLETION_INDEX`; `JOB_COMPLETIONS` is the job's
/// `completions` (set in the pod's environment by the manifest).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = Shard(uncheckedIndex: 0, count: 1)

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw KitError.invalid("shard \(index)/\(count): needs 0 ≤ I < N")
        }
        self.index = index
        self.count = count
    }

    private init(uncheckedIndex: Int, count: Int) {
        index = uncheckedIndex
        self.count = count
    }

    /// "I/N", e.g. "0/3".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw KitError.invalid("--shard \(text): write it as I/N, e.g. 0/3")
        }
        try self.init(index: index, count: count)
    }

    /// `--shard` when given, else the Indexed Job's environment (the CLI's, passed in), else the whole stream.
    public static func resolve(_ option: String?, environment: [String: String]) throws -> Shard {
        if let option { return try Shard(parsing: option) }
        guard let indexText = environment["JOB_COMPLETION_INDEX"] else { return .whole }
        guard let index = Int(indexText) else {
            throw KitError.invalid("JOB_COMPLETION_INDEX=\(indexText) is not a number")
        }
        guard let countText = environment["JOB_COMPLETIONS"], let count = Int(countText) else {
            throw KitError.invalid("JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not a number: "
                                   + "set it to the job's completions in the pod template")
        }
        return try Shard(index: index, count: count)
    }

    public func contains(_ item: Int) -> Bool { item % count == index }

    public var description: String { "\(index)/\(count)" }
}
