import Foundation

/// The scores this library knows, by their user-facing names.
/// Codable as its name, and as a JSON object's key in a dictionary (`CodingKeyRepresentable`), so model files and
/// JSON output spell scores as they always did.
public enum OODScoreKind: String, CaseIterable, Codable, CodingKeyRepresentable, Sendable {
    case density, densitySeed = "density-seed", classDensity = "class-density", jointDensity = "joint-density"
    case msp, maxlogit, energy, gen, mahalanobis, knn, vim, react, scale, ash = "ash-s"

    public var needsFeatures: Bool {
        switch self {
        case .mahalanobis, .knn, .vim, .react, .scale, .ash: return true
        default: return false
        }
    }

    /// Which of the verdict's two questions a score's evidence answers: scores that look at the feature itself
    /// (distances, subspaces, shaped activations) tell "not any trained class"; scores of the logits alone tell
    /// how sure the head is.
    public var question: Question { needsFeatures ? .unknown : .unsure }

    public init(name: String) throws {
        guard let kind = OODScoreKind(rawValue: name) else { throw RobustnessError.unknownScore(name) }
        self = kind
    }
}

/// An out-of-distribution score: one value per sample, higher = more in-distribution.
/// `logits` is n × classes; `features` (n × D penultimate features) only for scores that need them.
public protocol OODScore: Sendable {
    var kind: OODScoreKind { get }
    var needsFeatures: Bool { get }
    func score(logits: Matrix, features: Matrix?) throws -> [Double]
}

extension OODScore {
    public var needsFeatures: Bool { false }
    /// The score's name in messages.
    var name: String { kind.rawValue }

    func checkLogits(_ logits: Matrix, classes: Int?) throws {
        guard logits.cols > 0 else { throw RobustnessError.empty(what: "\(name) logits (no classes)") }
        if let classes, logits.cols != classes {
            throw RobustnessError.shapeMismatch(
                what: "\(name) logits", expected: "\(classes) columns", actual: "\(logits.cols)")
        }
        try logits.checkFinite("\(name) logits")
    }

    func requireFeatures(_ features: Matrix?, rows: Int, dim: Int) throws -> Matrix {
        guard let features else { throw RobustnessError.missingFeatures(score: kind) }
        guard features.rows == rows, features.cols == dim else {
            throw RobustnessError.shapeMismatch(
                what: "\(name) features", expected: "\(rows)x\(dim)", actual: "\(features.rows)x\(features.cols)")
        }
        try features.checkFinite("\(name) features")
        return features
    }
}

/// Maximum softmax probability (Hendrycks & Gimpel 2017).
public struct MSPScore: OODScore {
    public init() {}
    public var kind: OODScoreKind { .msp }
    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: nil)
        return (0..<logits.rows).map { r in
            let row = logits.row(r), mx = row.max() ?? 0
            return 1.0 / row.reduce(0) { $0 + exp($1 - mx) }     // exp(max - max) / Σ exp(l - max)
        }
    }
}

/// Largest logit (Hendrycks et al. 2022).
public struct MaxLogitScore: OODScore {
    public init() {}
    public var kind: OODScoreKind { .maxlogit }
    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: nil)
        return (0..<logits.rows).map { logits.row($0).max() ?? 0 }
    }
}

/// Negative free energy = logsumexp of the logits, temperature 1 (Liu et al. 2020).
public struct EnergyScore: OODScore {
    public init() {}
    public var kind: OODScoreKind { .energy }
    public func score(logits: Matrix, features: Matrix?) throws -> [Double] {
        try checkLogits(logits, classes: nil)
        return (0..<logits.rows).map { logSumExp(logits.row($0)) }
    }
}

func logSumExp(_ x: [Double]) -> Double {
    guard let mx = x.max() else { return -.infinity }
    return mx + log(x.reduce(0) { $0 + exp($1 - mx) })
}

/// Softmax probabilities of each row (stable).
public func softmax(_ logits: Matrix) -> Matrix {
    var out = logits
    for r in 0..<logits.rows {
        let row = logits.row(r), lse = logSumExp(row)
        for c in 0..<logits.cols { out[r, c] = exp(row[c] - lse) }
    }
    return out
}

/// Index of the largest value of each row (first on ties, as numpy.argmax).
public func argmaxRows(_ m: Matrix) -> [Int] {
    (0..<m.rows).map { r in
        var best = 0
        for c in 1..<Swift.max(m.cols, 1) where m[r, c] > m[r, best] { best = c }
        return best
    }
}
