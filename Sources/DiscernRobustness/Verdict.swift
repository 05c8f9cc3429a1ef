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
    public let score: OODScoreKind
    public let value: Double
    public let threshold: Double
    /// The threshold is the one for low-resolution photos (`OODThreshold.lowResolutionValue`).
    public let lowResolution: Bool
    public var passes: Bool { Calibration.accepts(value, threshold: threshold) }
    public init(score: OODScoreKind, value: Double, threshold: Double, lowResolution: Bool = false) {
        self.score = score
        self.value = value
        self.threshold = threshold
        self.lowResolution = lowResolution
    }

    enum CodingKeys: String, CodingKey { case score, value, threshold, lowResolution }

    /// Evidence written before there was a low-resolution threshold decodes with `lowResolution` false.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        score = try container.decode(OODScoreKind.self, forKey: .score)
        value = try container.decode(Double.self, forKey: .value)
        threshold = try container.decode(Double.self, forKey: .threshold)
        lowResolution = try container.decodeIfPresent(Bool.self, forKey: .lowResolution) ?? false
    }

    var comparison: String {
        String(format: "%@ %.4g %@ %.4g%@", score.rawValue, value, passes ? "≥" : "<", threshold,
               lowResolution ? ", the threshold for low-resolution photos" : "")
    }
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
        case let .unknown(evidence): return "not any trained class (\(evidence.comparison))"
        case let .unsure(evidence): return "a trained class, but the answer is likely wrong (\(evidence.comparison))"
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
        case let .twoQuestions(unknown, unsure): return [unknown, unsure]
        case let .singleScore(threshold): return [threshold]
        }
    }

    /// Each question's evidence for one image given its scores (nil for a question the rule does not ask).
    /// The unsure threshold may depend on the unknown score and on the image's decoded shorter side in pixels
    /// (`OODThreshold.value(typicality:shortSide:)`; nil when not known).
    public func evidence(_ scores: [OODScoreKind: Double], shortSide: Int? = nil)
        -> (unknown: Evidence?, unsure: Evidence?) {
        func evidence(_ threshold: OODThreshold, _ value: Double, lowResolution: Bool = false) -> Evidence {
            Evidence(score: threshold.score, value: scores[threshold.score] ?? .nan, threshold: value,
                     lowResolution: lowResolution)
        }
        switch self {
        case let .twoQuestions(unknown, unsure):
            return (evidence(unknown, unknown.value),
                    evidence(unsure, unsure.value(typicality: scores[unknown.score], shortSide: shortSide),
                             lowResolution: unsure.isLowResolution(shortSide: shortSide)))
        case let .singleScore(threshold):
            let single = evidence(threshold, threshold.value)
            return threshold.score.question == .unknown ? (single, nil) : (nil, single)
        }
    }

    /// The verdict for one image given its scores (a missing score counts as failing).
    public func verdict(_ scores: [OODScoreKind: Double], shortSide: Int? = nil) -> Verdict {
        let (unknownEvidence, unsureEvidence) = evidence(scores, shortSide: shortSide)
        if let unknownEvidence, !unknownEvidence.passes { return .unknown(unknownEvidence) }
        if let unsureEvidence, !unsureEvidence.passes { return .unsure(unsureEvidence) }
        return .accept
    }

    /// Verdicts of many images; `scores` maps a score to one value per image, `shortSides` (when known) gives each
    /// image's decoded shorter side in pixels.
    public func verdicts(_ scores: [OODScoreKind: [Double]], count: Int, shortSides: [Int]? = nil) -> [Verdict] {
        (0..<count).map { i in
            verdict(scores.compactMapValues { $0.indices.contains(i) ? $0[i] : nil },
                    shortSide: shortSides.flatMap { $0.indices.contains(i) ? $0[i] : nil })
        }
    }
}
