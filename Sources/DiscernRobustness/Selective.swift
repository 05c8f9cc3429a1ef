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
            throw RobustnessError.shapeMismatch(what: "correctness vs scores", expected: "\(scores.count)", actual: "\(correct.count)")
        }
        var acc = 0, accRight = 0, wrong = 0, wrongRej = 0, rightRej = 0
        for (c, s) in zip(correct, scores) {
            let ok = Calibration.verdict(s, threshold: threshold) == .accept
            if ok { acc += 1; if c { accRight += 1 } }
            if !c { wrong += 1; if !ok { wrongRej += 1 } } else if !ok { rightRej += 1 }
        }
        let n = correct.count
        return SelectiveResult(total: n, accepted: acc, coverage: n > 0 ? Double(acc) / Double(n) : 0,
                               accuracy: n > 0 ? Double(n - wrong) / Double(n) : 0,
                               accuracyOnAccepted: acc > 0 ? Double(accRight) / Double(acc) : 0,
                               wrong: wrong, wrongRejected: wrongRej, rightRejected: rightRej)
    }

    public static func riskCoverage(correct: [Bool], scores: [Double]) throws -> RiskCoverageCurve {
        guard correct.count == scores.count else {
            throw RobustnessError.shapeMismatch(what: "correctness vs scores", expected: "\(scores.count)", actual: "\(correct.count)")
        }
        guard !scores.isEmpty else { throw RobustnessError.empty(what: "risk-coverage scores") }
        guard scores.allSatisfy({ !$0.isNaN }) else { throw RobustnessError.notFinite(what: "scores") }
        let (fps, tps, thr) = OODMetrics.clfCurve(labels: correct.map { !$0 }, scores: scores)  // "positive" = error
        let n = Double(scores.count)
        var cov = [Double](), risk = [Double](), aurc = 0.0, prev = 0.0
        for i in fps.indices {
            let k = fps[i] + tps[i], c = k / n, r = tps[i] / k
            cov.append(c); risk.append(r)
            aurc += (c - prev) * r; prev = c
        }
        return RiskCoverageCurve(coverage: cov, risk: risk, thresholds: thr, aurc: aurc)
    }
}
