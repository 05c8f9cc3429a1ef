import Foundation

/// The two questions a verdict answers, each with its own evidence.
public enum Question: String, Codable, Sendable {
    /// "Is this any of my classes?" — answered in feature space.
    case unknown
    /// "Is my answer likely right?" — answered by the head's confidence.
    case unsure
}

/// One score's value against its threshold: why a verdict came out as it did.
public struct Evidence: Codable, Equatable, Sendable {
    public let score: String
    public let value: Double
    public let threshold: Double
    public var passes: Bool { Calibration.accepts(value, threshold: threshold) }
    public init(score: String, value: Double, threshold: Double) {
        self.score = score
        self.value = value
        self.threshold = threshold
    }
    var comparison: String { String(format: "%@ %.4g %@ %.4g", score, value, passes ? "≥" : "<", threshold) }
}

/// The verdict without its evidence: what `predict --json` and the server write.
public enum VerdictKind: String, Codable, CaseIterable, Sendable { case accept, unknown, unsure }

/// What to do with one prediction.
public enum Verdict: Equatable, Sendable {
    case accept
    /// Not any trained class: the feature lies outside what photos of the trained classes look like.
    case unknown(Evidence)
    /// A trained class, but the prediction is likely wrong: the head is not confident enough.
    case unsure(Evidence)

    public var kind: VerdictKind {
        switch self {
        case .accept: return .accept
        case .unknown: return .unknown
        case .unsure: return .unsure
        }
    }

    public var isAccepted: Bool { self == .accept }

    /// One line a user can read.
    public var reason: String {
        switch self {
        case .accept: return "a trained class, and the answer is confident"
        case let .unknown(e): return "not any trained class (\(e.comparison))"
        case let .unsure(e): return "a trained class, but the answer is likely wrong (\(e.comparison))"
        }
    }
}

/// How a model turns scores into a verdict.
public enum VerdictRule: Codable, Equatable, Sendable {
    /// Unknown first (a feature-space score), then unsure (a confidence score calibrated to a target risk).
    case twoQuestions(unknown: OODThreshold, unsure: OODThreshold)
    /// The study's rule: one score, one threshold; a rejection is reported under the question the score answers.
    case singleScore(OODThreshold)

    public var thresholds: [OODThreshold] {
        switch self {
        case let .twoQuestions(u, s): return [u, s]
        case let .singleScore(t): return [t]
        }
    }

    /// Each question's evidence for one image given its scores by name (nil for a question the rule does not ask).
    /// The unsure threshold may depend on the unknown score (`OODThreshold.value(typicality:)`).
    public func evidence(_ scores: [String: Double]) -> (unknown: Evidence?, unsure: Evidence?) {
        func evidence(_ t: OODThreshold, _ value: Double) -> Evidence {
            Evidence(score: t.score, value: scores[t.score] ?? .nan, threshold: value)
        }
        switch self {
        case let .twoQuestions(u, s):
            return (evidence(u, u.value), evidence(s, s.value(typicality: scores[u.score])))
        case let .singleScore(t):
            let e = evidence(t, t.value)
            return (try? OODScoreKind(name: t.score))?.question == .unknown ? (e, nil) : (nil, e)
        }
    }

    /// The verdict for one image given its scores by name (a missing score counts as failing).
    public func verdict(_ scores: [String: Double]) -> Verdict {
        let (eu, es) = evidence(scores)
        if let eu, !eu.passes { return .unknown(eu) }
        if let es, !es.passes { return .unsure(es) }
        return .accept
    }

    /// Verdicts of many images; `scores` maps a score name to one value per image.
    public func verdicts(_ scores: [String: [Double]], count: Int) -> [Verdict] {
        (0..<count).map { i in verdict(scores.compactMapValues { $0.indices.contains(i) ? $0[i] : nil }) }
    }
}
