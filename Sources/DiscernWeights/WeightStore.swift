import DiscernEngine

/// Named tensors handed to a model builder. Every lookup checks the shape; `finish()` reports
/// keys nobody asked for. Handles DataParallel's `module.` prefix and ignores `num_batches_tracked`.
public final class WeightStore {
    private var tensors: [String: Tensor]
    private var used = Set<String>()

    public init(_ tensors: [String: Tensor]) {
        var named = tensors
        if !named.isEmpty, named.keys.allSatisfy({ $0.hasPrefix("module.") }) {
            named = Dictionary(uniqueKeysWithValues: named.map { (String($0.key.dropFirst(7)), $0.value) })
        }
        self.tensors = named.filter { !$0.key.hasSuffix("num_batches_tracked") }
    }

    public var keys: [String] { tensors.keys.sorted() }
    /// All tensors after the prefix/counter normalisation.
    public var all: [String: Tensor] { tensors }
    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// The tensor at `key`, which must have `shape`.
    public func take(_ key: String, shape: [Int]) throws -> Tensor {
        guard let tensor = tensors[key] else { throw WeightsError.missingKey(key) }
        guard tensor.shape == shape else {
            throw WeightsError.shapeMismatch(key: key, expected: shape, actual: tensor.shape)
        }
        used.insert(key)
        return tensor
    }

    /// Throws if any key was never taken (weights for another architecture, say).
    public func finish(ignoring prefixes: [String] = []) throws {
        let left = tensors.keys.filter { key in !used.contains(key) && !prefixes.contains { key.hasPrefix($0) } }
            .sorted()
        if !left.isEmpty { throw WeightsError.unexpectedKeys(left) }
    }
}
