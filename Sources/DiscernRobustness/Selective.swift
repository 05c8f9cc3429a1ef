import Foundation

/// Selective classification at one threshold: what accepting only score ≥ threshold does to a labelled test set.
public struct SelectiveResult: Codable, Equatable, Sendable {
    public let total: Int
    public let accepted: Int
    /// accepted / total.
    public let coverage: Double
    /// Accuracy over all samples (no rejection).
    public let accuracy: Double
    /// Accuracy over the accepted samples (NaN-free: 0 when nothing is accepted).
    public let accuracyOnAccepted: Double
    /// Wrong predictions in total, and how many of them were rejected.
    public let wrong: Int
    public let wrongRejected: Int
    /// Right predictions that were rejected (lost).
    public let rightRejected: Int
}

/// Risk (error rate among accepted) against coverage, sweeping the threshold from the highest score down.
public struct RiskCoverageCurve: Codable, Equatable, Sendable {
    public let coverage: [Double]
    public let risk: [Double]
    public let thresholds: [Double]
    /// Area under the curve: Σ Δcoverage · risk over the points (tied scores form one point). Without
    /// ties this is the usual (1/n) Σ_k risk(top k) of Geifman et al.
    public let aurc: Double
}

public enum Selective {
    public static func evaluate(correct: [Bool], scores: [Double], threshold: Double) throws -> SelectiveResult {
        guard correct.count == scores.count else {
            throw RobustnessError.shapeMismatch(
                what: "correctness vs scores", expected: "\(scores.count)", actual: "\(correct.count)")
        }
        var acc = 0, accRight = 0, wrong = 0, wrongRej = 0, rightRej = 0
        for (c, s) in zip(correct, scores) {
            let ok = Calibration.accepts(s, threshold: threshold)
            if ok {
                acc += 1
                if c { accRight += 1 }
            }
            if !c {
                wrong += 1
                if !ok { wrongRej += 1 }
            } else if !ok {
                rightRej += 1
            }
        }
        let n = correct.count
        return SelectiveResult(total: n, accepted: acc, coverage: n > 0 ? Double(acc) / Double(n) : 0,
                               accuracy: n > 0 ? Double(n - wrong) / Double(n) : 0,
                               accuracyOnAccepted: acc > 0 ? Double(accRight) / Double(acc) : 0,
                               wrong: wrong, wrongRejected: wrongRej, rightRejected: rightRej)
    }

    /// The same from accept/reject decisions made by any rule (e.g. a two-question verdict).
    public static func evaluate(correct: [Bool], accepted: [Bool]) throws -> SelectiveResult {
        try evaluate(correct: correct, scores: accepted.map { $0 ? 1 : 0 }, threshold: 0.5)
    }

    public static func riskCoverage(correct: [Bool], scores: [Double]) throws -> RiskCoverageCurve {
        guard correct.count == scores.count else {
            throw RobustnessError.shapeMismatch(
                what: "correctness vs scores", expected: "\(scores.count)", actual: "\(correct.count)")
        }
        guard !scores.isEmpty else { throw RobustnessError.empty(what: "risk-coverage scores") }
        guard scores.allSatisfy({ !$0.isNaN }) else { throw RobustnessError.notFinite(what: "scores") }
        let (fps, tps, thr) = OODMetrics.clfCurve(labels: correct.map { !$0 }, scores: scores)  // "positive" = error
        let n = Double(scores.count)
        var cov = [Double](), risk = [Double](), aurc = 0.0, prev = 0.0
        for i in fps.indices {
            let k = fps[i] + tps[i], c = k / n, r = tps[i] / k
            cov.append(c)
            risk.append(r)
            aurc += (c - prev) * r
            prev = c
        }
        return RiskCoverageCurve(coverage: cov, risk: risk, thresholds: thr, aurc: aurc)
    }
}

extension Selective {
    /// The lowest threshold (largest coverage) at which at most `maxRisk` of the accepted samples are wrong:
    /// scores are swept from the highest down, tied scores accepted together. +∞ (accept nothing) when even the
    /// most confident group is wrong more often than that.
    public static func threshold(correct: [Bool], scores: [Double], maxRisk: Double) throws -> Double {
        guard maxRisk >= 0 && maxRisk < 1 else {
            throw RobustnessError.invalidArgument("maximum risk must be in [0, 1), got \(maxRisk)")
        }
        let curve = try riskCoverage(correct: correct, scores: scores)
        var best = Double.infinity
        for i in curve.risk.indices where curve.risk[i] <= maxRisk + 1e-12 { best = curve.thresholds[i] }
        return best
    }

    /// The confidence score for the "unsure" question: the lowest area under the risk–coverage curve on
    /// labelled held-out images (it ranks wrong answers last best); ties → the earlier in `OODScoreKind.allCases`.
    public static func chooseScore(correct: [Bool], scores: [OODScoreKind: [Double]]) throws -> (
        score: OODScoreKind, aurc: [OODScoreKind: Double]
    ) {
        var aurc: [OODScoreKind: Double] = [:]
        var best: (score: OODScoreKind, aurc: Double)?
        for score in OODScoreKind.allCases {
            guard let values = scores[score] else { continue }
            let area = try riskCoverage(correct: correct, scores: values).aurc
            aurc[score] = area
            if let leader = best, !(area < leader.aurc - 1e-15) { continue }
            best = (score, area)
        }
        guard let best else {
            throw RobustnessError.invalidArgument("no confidence score to choose from")
        }
        return (best.score, aurc)
    }
}

extension Selective {
    /// The "unsure" threshold held to `maxRisk` in each of two strata: samples whose `typicality` (the unknown
    /// question's score) is at least `cut`, and the rest. A low-resolution or otherwise unusual photo is both less
    /// typical and more often wrong; one pooled threshold would either let its errors through or, raised for them,
    /// reject many good typical photos. The atypical threshold is never looser than the typical one; nil when no
    /// sample is atypical. Each stratum's threshold is `threshold(correct:scores:maxRisk:)` on that stratum.
    public static func stratifiedThresholds(correct: [Bool], scores: [Double], typicality: [Double], cut: Double,
                                            maxRisk: Double) throws -> (typical: Double, atypical: Double?) {
        guard correct.count == scores.count, typicality.count == scores.count else {
            throw RobustnessError.shapeMismatch(
                what: "correctness, scores and typicality", expected: "\(scores.count) each",
                actual: "\(correct.count), \(typicality.count)")
        }
        let typical = typicality.indices.filter { typicality[$0] >= cut }
        let atypical = typicality.indices.filter { !(typicality[$0] >= cut) }
        func stratum(_ rows: [Int]) throws -> Double? {
            try threshold(rows, correct: correct, scores: scores, maxRisk: maxRisk)
        }
        let typicalThreshold = try stratum(typical) ?? .infinity
        return (typicalThreshold, try stratum(atypical).map { Swift.max($0, typicalThreshold) })
    }

    /// `threshold(correct:scores:maxRisk:)` on the samples `rows` alone; nil for none.
    static func threshold(_ rows: [Int], correct: [Bool], scores: [Double], maxRisk: Double) throws -> Double? {
        rows.isEmpty
            ? nil
            : try threshold(correct: rows.map { correct[$0] }, scores: rows.map { scores[$0] }, maxRisk: maxRisk)
    }

    /// The "unsure" threshold held to `maxRisk` on full-size and on low-resolution samples apart: a photo enlarged
    /// many times to the input is wrong far more often at the same confidence, so pooled its errors would raise the
    /// one threshold until good full-size photos were rejected. The low-resolution threshold is never looser than
    /// the full-size one; nil when no sample is low-resolution. Each is `threshold(correct:scores:maxRisk:)` on its
    /// stratum; when every sample is low-resolution (a dataset of small images) both are the low-resolution one.
    public static func resolutionThresholds(correct: [Bool], scores: [Double], lowResolution: [Bool],
                                            maxRisk: Double) throws -> (normal: Double, lowResolution: Double?) {
        guard correct.count == scores.count, lowResolution.count == scores.count else {
            throw RobustnessError.shapeMismatch(
                what: "correctness, scores and low-resolution flags", expected: "\(scores.count) each",
                actual: "\(correct.count), \(lowResolution.count)")
        }
        func stratum(_ rows: [Int]) throws -> Double? {
            try threshold(rows, correct: correct, scores: scores, maxRisk: maxRisk)
        }
        let normal = try stratum(scores.indices.filter { !lowResolution[$0] })
        let low = try stratum(scores.indices.filter { lowResolution[$0] })
        return (normal ?? low ?? .infinity, low.map { Swift.max($0, normal ?? $0) })
    }
}
