import DiscernEngine

/// Named tensors handed to a model builder. Every lookup checks the shape; `finish()` reports
/// keys nobody asked for. Handles DataParallel's `module.` prefix and ignores `num_batches_tracked`.
public final class WeightStore {
    private var tensors: [String: Tensor]
    private var used = Set<String>()

    public init(_ tensors: [String: Tensor]) {
        var t = tensors
        if !t.isEmpty, t.keys.allSatisfy({ $0.hasPrefix("module.") }) {
            t = Dictionary(uniqueKeysWithValues: t.map { (String($0.key.dropFirst(7)), $0.value) })
        }
        self.tensors = t.filter { !$0.key.hasSuffix("num_batches_tracked") }
    }

    public var keys: [String] { tensors.keys.sorted() }
    /// All tensors after the prefix/counter normalisation.
    public var all: [String: Tensor] { tensors }
    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// The tensor at `key`, which must have `shape`.
    public func take(_ key: String, shape: [Int]) throws -> Tensor {
        guard let t = tensors[key] else { throw WeightsError.missingKey(key) }
        guard t.shape == shape else { throw WeightsError.shapeMismatch(key: key, expected: shape, actual: t.shape) }
        used.insert(key)
        return t
    }

    /// Throws if any key was never taken (weights for another architecture, say).
    public func finish(ignoring prefixes: [String] = []) throws {
        let left = tensors.keys.filter { k in !used.contains(k) && !prefixes.contains { k.hasPrefix($0) } }.sorted()
        if !left.isEmpty { throw WeightsError.unexpectedKeys(left) }
    }
}
