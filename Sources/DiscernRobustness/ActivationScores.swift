import Foundation

/// ReAct (Sun et al. 2021): clip the pooled features at the p-th percentile of the training activations, re-run
/// the head, take the energy (logsumexp). Unusually large activations, typical of unknown images, are cut.
public struct ReActScore: OODScore, Codable {
    public let head: LinearMap
    public let clip: Double
    public let percentileUsed: Double

    public var kind: OODScoreKind { .react }
    public var needsFeatures: Bool { true }

    public static func fit(features: Matrix, head: LinearMap, percentile p: Double = 90) throws -> ReActScore {
        guard features.rows > 0, features.cols == head.features else {
            throw RobustnessError.shapeMismatch(
                what: "ReAct features", expected: "n x \(head.features)", actual: "\(features.rows)x\(features.cols)")
        }
        guard p > 0 && p <= 100 else {
            throw RobustnessError.invalidArgument("ReAct percentile must be in (0, 100], got \(p)")
        }
        try features.checkFinite("ReAct training features")
        return ReActScore(head: head, clip: percentile(features.values, p), percentileUsed: p)
    }

    public init(head: LinearMap, clip: Double, percentileUsed: Double) {
        self.head = head
        self.clip = clip
        self.percentileUsed = percentileUsed
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        var x = try requireFeatures(features, rows: logits.rows, dim: head.features)
        for i in x.values.indices { x.values[i] = Swift.min(x.values[i], clip) }
        let l = head.logits(x)
        return (0..<l.rows).map { logSumExp(l.row($0)) }
    }
}

/// Activation shaping: SCALE (Xu et al. 2024) keeps every activation and multiplies the feature by exp(s1/s2),
/// s1 = the sum of all activations, s2 = the sum of the largest (100 − p)% of them; ASH-S (Djurisic et al. 2023)
/// also zeroes everything below the top (100 − p)%. The score is the energy of the head on the shaped feature.
public struct ActivationShapingScore: OODScore, Codable {
    public enum Method: String, Codable, Sendable { case scale, ashS = "ash-s" }
    public let head: LinearMap
    public let method: Method
    public let percentileUsed: Double

    public var kind: OODScoreKind { method == .scale ? .scale : .ash }
    public var needsFeatures: Bool { true }

    public init(head: LinearMap, method: Method, percentile p: Double = 85) throws {
        guard p >= 0 && p < 100 else {
            throw RobustnessError.invalidArgument("shaping percentile must be in [0, 100), got \(p)")
        }
        self.head = head
        self.method = method
        percentileUsed = p
    }

    /// The shaped features (one row per sample), as the head sees them.
    public func shaped(_ x: Matrix) -> Matrix {
        var out = x
        let d = x.cols, k = d - Int((Double(d) * percentileUsed / 100).rounded(.toNearestOrEven))
        for r in 0..<x.rows {
            let row = x.row(r), s1 = row.reduce(0, +)
            let top = ActivationShapingScore.largest(row, count: Swift.max(k, 1))
            let s2 = top.reduce(0.0) { $0 + row[$1] }
            let factor = s2 > 0 ? exp(s1 / s2) : 1
            if method == .ashS {
                for c in 0..<d { out[r, c] = 0 }
                for c in top { out[r, c] = row[c] * factor }
            } else {
                for c in 0..<d { out[r, c] = row[c] * factor }
            }
        }
        return out
    }

    /// The indices of the `count` largest values, largest first, equal values in index order: the prefix of a
    /// stable descending sort, found by selecting the cut value first and sorting only what is above it.
    static func largest(_ row: [Double], count: Int) -> [Int] {
        let count = Swift.min(count, row.count)
        guard count > 0 else { return [] }
        var values = row
        let cut = selectDescending(&values, rank: count - 1)
        var above: [Int] = [], equal: [Int] = []
        above.reserveCapacity(count)
        for (index, value) in row.enumerated() {
            if value > cut { above.append(index) } else if value == cut { equal.append(index) }
        }
        above.sort { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
        return above + equal.prefix(count - above.count)
    }

    /// The value at position `rank` (0-based) of `values` sorted descending (Hoare's quickselect; reorders values).
    static func selectDescending(_ values: inout [Double], rank: Int) -> Double {
        var low = 0, high = values.count - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if rank <= j { high = j } else if rank >= i { low = i } else { return values[rank] }
        }
        return values[rank]
    }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        let x = try requireFeatures(features, rows: logits.rows, dim: head.features)
        let l = head.logits(shaped(x))
        return (0..<l.rows).map { logSumExp(l.row($0)) }
    }
}

/// GEN (Liu et al. 2023): generalised entropy of the M largest softmax probabilities, score = −Σ pᵞ(1 − p)ᵞ,
/// γ = 0.1, M = min(100, classes). Higher = more confident.
public struct GENScore: OODScore, Codable {
    public let gamma: Double
    public let topM: Int
    public init(gamma: Double = 0.1, topM: Int = 100) {
        self.gamma = gamma
        self.topM = topM
    }
    public var kind: OODScoreKind { .gen }

    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: nil)
        let p = softmax(logits), m = Swift.min(topM, logits.cols)
        return (0..<p.rows).map { r in
            -p.row(r).sorted(by: >).prefix(m).reduce(0.0) { $0 + pow($1, gamma) * pow(1 - $1, gamma) }
        }
    }
}
