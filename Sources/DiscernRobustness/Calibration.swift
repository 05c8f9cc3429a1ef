import Foundation

/// A threshold together with the score it belongs to, as stored in the model file.
public struct OODThreshold: Codable, Equatable, Sendable {
    public let score: OODScoreKind
    public let value: Double
    /// The accepted fraction of validation images it was calibrated for; nil for a fixed threshold.
    public let targetAcceptance: Double?
    /// The largest share of errors among accepted held-out images it was calibrated for (the "unsure" question).
    public let targetRisk: Double?
    /// An "unsure" threshold held in two strata of the unknown question's score: an image whose unknown score is
    /// below `atypicalBelow` (less typical than most held-out photos) is held to `atypicalValue` instead of `value`.
    /// Nil for one stratum (older model files, or a threshold of another kind).
    public let atypicalBelow: Double?
    public let atypicalValue: Double?
    /// An "unsure" threshold of its own for low-resolution photos: an image whose decoded shorter side is below
    /// `lowResolutionBelow` pixels (it was enlarged more than twofold to the input) is held to `lowResolutionValue`,
    /// calibrated on such images. Nil in older model files and for thresholds of another kind.
    public let lowResolutionBelow: Int?
    public let lowResolutionValue: Double?

    public init(
        score: OODScoreKind, value: Double, targetAcceptance: Double? = nil, targetRisk: Double? = nil,
        atypicalBelow: Double? = nil, atypicalValue: Double? = nil, lowResolutionBelow: Int? = nil,
        lowResolutionValue: Double? = nil
    ) {
        self.score = score
        self.value = value
        self.targetAcceptance = targetAcceptance
        self.targetRisk = targetRisk
        self.atypicalBelow = atypicalBelow
        self.atypicalValue = atypicalValue
        self.lowResolutionBelow = lowResolutionBelow
        self.lowResolutionValue = lowResolutionValue
    }

    /// Whether an image whose decoded shorter side is `shortSide` pixels falls under the low-resolution threshold
    /// (an unknown size never does).
    public func isLowResolution(shortSide: Int?) -> Bool {
        guard let below = lowResolutionBelow, lowResolutionValue != nil, let shortSide else { return false }
        return shortSide < below
    }

    public func accepts(_ score: Double) -> Bool { Calibration.accepts(score, threshold: value) }

    /// The threshold that applies to an image whose unknown-question score is `typicality` (NaN or nil counts as
    /// atypical when there are strata) and whose decoded shorter side is `shortSide` pixels (nil: unknown).
    public func value(typicality: Double?, shortSide: Int? = nil) -> Double {
        if isLowResolution(shortSide: shortSide), let lowResolution = lowResolutionValue { return lowResolution }
        guard let cut = atypicalBelow, let strict = atypicalValue else { return value }
        if let typicality, typicality >= cut { return value }
        return strict
    }
}

public enum Calibration {
    /// Accept iff score ≥ threshold; NaN is rejected.
    public static func accepts(_ score: Double, threshold: Double) -> Bool { score >= threshold }

    /// The largest t that accepts at least `acceptFraction` of `scores`: the k-th largest score with
    /// k = ⌈acceptFraction·n⌉ (a lower (1 − acceptFraction) quantile; ties may accept a little more).
    public static func threshold(inDistribution scores: [Double], acceptFraction: Double = 0.95) throws -> Double {
        guard !scores.isEmpty else { throw RobustnessError.empty(what: "calibration scores") }
        guard acceptFraction > 0 && acceptFraction <= 1 else {
            throw RobustnessError.invalidArgument("accepted fraction must be in (0, 1], got \(acceptFraction)")
        }
        guard scores.allSatisfy({ !$0.isNaN }) else { throw RobustnessError.notFinite(what: "calibration scores") }
        let n = scores.count
        // The 1e-9 guards against 0.95·n landing a hair above an integer in binary floating point.
        let k = Swift.min(n, Swift.max(1, Int((acceptFraction * Double(n) - 1e-9).rounded(.up))))
        return scores.sorted(by: >)[k - 1]
    }

    /// A conservative threshold for small validation sets: the k-th largest score with the smallest k such
    /// that, with probability ≥ `confidence`, it accepts at least `acceptFraction` of new in-distribution
    /// images. For exchangeable continuous scores the accepted fraction of the k-th largest of n is
    /// Beta(k, n+1−k), so P(fraction ≥ t) = P(Binomial(n, t) ≤ k−1). If no k reaches the confidence
    /// (n too small), every validation image is accepted (k = n).
    public static func threshold(inDistribution scores: [Double], acceptFraction: Double, confidence: Double) throws
        -> Double
    {
        guard confidence > 0 && confidence < 1 else {
            throw RobustnessError.invalidArgument("confidence must be in (0, 1), got \(confidence)")
        }
        _ = try threshold(inDistribution: scores, acceptFraction: acceptFraction)  // validates the input
        return scores.sorted(by: >)[
            toleranceRank(n: scores.count, acceptFraction: acceptFraction, confidence: confidence) - 1]
    }

    /// The k of `threshold(inDistribution:acceptFraction:confidence:)`.
    static func toleranceRank(n: Int, acceptFraction t: Double, confidence: Double) -> Int {
        if t >= 1 { return n }
        // Binomial(n, t) CDF accumulated in the log domain to stay finite for large n.
        let lt = log(t), l1t = log1p(-t)
        var cdf = 0.0
        for j in 0..<n {
            let logPmf =
                lgamma(Double(n) + 1) - lgamma(Double(j) + 1) - lgamma(Double(n - j) + 1) + Double(j) * lt + Double(
                    n - j) * l1t
            cdf += exp(logPmf)  // cdf = P(Bin ≤ j); k − 1 = j
            if cdf >= confidence { return j + 1 }
        }
        return n
    }

    /// Calibrated threshold for `score`; with `confidence` the conservative (tolerance) version above.
    public static func calibrate(
        score: OODScoreKind, validationScores: [Double], acceptFraction: Double = 0.95,
        confidence: Double? = nil
    ) throws -> OODThreshold {
        let value =
            try confidence.map {
                try threshold(inDistribution: validationScores, acceptFraction: acceptFraction, confidence: $0)
            }
            ?? threshold(inDistribution: validationScores, acceptFraction: acceptFraction)
        return OODThreshold(score: score, value: value, targetAcceptance: acceptFraction)
    }
}

extension OODDetector {
    /// The full calibration step: scores the held-out validation images (in-distribution) and a proxy
    /// outlier set (e.g. `ProxyOutliers.permutedColumns` of the validation features, mapped to logits
    /// by the head), picks the default score with `Calibration.chooseDefault`, and calibrates its threshold
    /// so that `acceptFraction` of the validation images are accepted. `candidates` limits the choice.
    public func calibrateDefault(validationLogits: Matrix, validationFeatures: Matrix?,
                                 proxyLogits: Matrix, proxyFeatures: Matrix?,
                                 candidates: [OODScoreKind]? = nil, acceptFraction: Double = 0.95,
                                 confidence: Double? = nil)
        throws -> (choice: Calibration.Choice, threshold: OODThreshold) {
        let kinds = (candidates ?? available()).filter {
            available(withFeatures: validationFeatures != nil && proxyFeatures != nil).contains($0)
        }
        var validationScores: [OODScoreKind: [Double]] = [:]
        var proxyScores: [OODScoreKind: [Double]] = [:]
        for kind in kinds {
            validationScores[kind] = try scores(kind, logits: validationLogits, features: validationFeatures)
            proxyScores[kind] = try scores(kind, logits: proxyLogits, features: proxyFeatures)
        }
        let choice = try Calibration.chooseDefault(validationIn: validationScores, proxyOut: proxyScores,
                                                   acceptFraction: acceptFraction)
        return (choice, try Calibration.calibrate(score: choice.score,
                                                   validationScores: validationScores[choice.score] ?? [],
                                                   acceptFraction: acceptFraction, confidence: confidence))
    }
}
