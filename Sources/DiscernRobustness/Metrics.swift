import Foundation

/// Points of a ROC curve with scikit-learn 1.2 `roc_curve` semantics (drop_intermediate=True;
/// the first threshold is the largest score + 1).
public struct ROCCurve: Codable, Equatable, Sendable {
    public let fpr: [Double]
    public let tpr: [Double]
    public let thresholds: [Double]
}

/// AUROC, AUPR-In, AUPR-Out and FPR at 95% TPR of one OOD score on one unknown set.
public struct OODMetricSet: Codable, Equatable, Sendable {
    public let auroc: Double
    public let auprIn: Double
    public let auprOut: Double
    public let fpr95: Double
}

/// Binary ranking metrics; in-distribution is the positive class and higher scores mean "more positive".
public enum OODMetrics {
    /// sklearn `_binary_clf_curve`: cumulative true/false positives at each distinct score, descending.
    static func clfCurve(labels: [Bool], scores: [Double]) -> (fps: [Double], tps: [Double], thr: [Double]) {
        // numpy: argsort(kind="mergesort")[::-1] — ties end up in reverse order, which only
        // matters inside a tie group and so never changes the cumulative counts at group ends.
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var fps = [Double](), tps = [Double](), thr = [Double]()
        var tp = 0.0, fp = 0.0
        for (pos, i) in order.enumerated() {
            if labels[i] { tp += 1 } else { fp += 1 }
            if pos == order.count - 1 || scores[order[pos + 1]] != scores[i] {
                tps.append(tp)
                fps.append(fp)
                thr.append(scores[i])
            }
        }
        return (fps, tps, thr)
    }

    static func validate(_ labels: [Bool], _ scores: [Double]) throws {
        guard labels.count == scores.count else {
            throw RobustnessError.shapeMismatch(
                what: "labels vs scores", expected: "\(scores.count)", actual: "\(labels.count)")
        }
        guard scores.allSatisfy({ !$0.isNaN }) else { throw RobustnessError.notFinite(what: "scores") }
        guard labels.contains(true), labels.contains(false) else {
            throw RobustnessError.invalidArgument("ROC/PR metrics need both positive and negative samples")
        }
    }

    public static func rocCurve(labels: [Bool], scores: [Double]) throws -> ROCCurve {
        try validate(labels, scores)
        var (fps, tps, thr) = clfCurve(labels: labels, scores: scores)
        if fps.count > 2 {
            var keep = [0]
            for i in 1..<(fps.count - 1) {
                let d2f = fps[i + 1] - 2 * fps[i] + fps[i - 1], d2t = tps[i + 1] - 2 * tps[i] + tps[i - 1]
                if d2f != 0 || d2t != 0 { keep.append(i) }
            }
            keep.append(fps.count - 1)
            fps = keep.map { fps[$0] }
            tps = keep.map { tps[$0] }
            thr = keep.map { thr[$0] }
        }
        let fn = fps.last!, tn = tps.last!
        return ROCCurve(fpr: [0] + fps.map { $0 / fn }, tpr: [0] + tps.map { $0 / tn }, thresholds: [thr[0] + 1] + thr)
    }

    /// Area under the ROC curve by the trapezoidal rule (sklearn `roc_auc_score`).
    public static func auroc(labels: [Bool], scores: [Double]) throws -> Double {
        let c = try rocCurve(labels: labels, scores: scores)
        var a = 0.0
        for i in 1..<c.fpr.count { a += (c.fpr[i] - c.fpr[i - 1]) * (c.tpr[i] + c.tpr[i - 1]) / 2 }
        return a
    }

    /// sklearn `average_precision_score`: Σ (R_i − R_{i−1}) P_i over distinct thresholds.
    public static func averagePrecision(labels: [Bool], scores: [Double]) throws -> Double {
        try validate(labels, scores)
        let (fps, tps, _) = clfCurve(labels: labels, scores: scores)
        let total = tps.last!
        var ap = 0.0, prevR = 0.0
        for i in tps.indices {
            let r = tps[i] / total
            ap += (r - prevR) * (tps[i] / (tps[i] + fps[i]))
            prevR = r
        }
        return ap
    }

    /// Fraction of OOD samples accepted at the threshold that accepts `tpr` of the in-distribution ones:
    /// t = the ⌈tpr·n_in⌉-th largest in-distribution score (the largest t with TPR ≥ tpr), FPR = #(out ≥ t)/n_out.
    public static func fpr(atTPR tpr: Double = 0.95, inScores: [Double], outScores: [Double]) throws -> Double {
        guard !outScores.isEmpty else { throw RobustnessError.empty(what: "OOD scores") }
        let t = try Calibration.threshold(inDistribution: inScores, acceptFraction: tpr)
        return Double(outScores.filter { $0 >= t }.count) / Double(outScores.count)
    }

    public static func evaluate(inScores: [Double], outScores: [Double]) throws -> OODMetricSet {
        let labels = [Bool](repeating: true, count: inScores.count) + [Bool](repeating: false, count: outScores.count)
        let s = inScores + outScores
        return OODMetricSet(auroc: try auroc(labels: labels, scores: s),
                            auprIn: try averagePrecision(labels: labels, scores: s),
                            auprOut: try averagePrecision(labels: labels.map { !$0 }, scores: s.map { -$0 }),
                            fpr95: try fpr(atTPR: 0.95, inScores: inScores, outScores: outScores))
    }

    /// AUROC of in (positive) vs out.
    public static func auroc(inScores: [Double], outScores: [Double]) throws -> Double {
        try auroc(labels: [Bool](repeating: true, count: inScores.count)
                      + [Bool](repeating: false, count: outScores.count),
                  scores: inScores + outScores)
    }

    /// ROC curve of in (positive) vs out.
    public static func rocCurve(inScores: [Double], outScores: [Double]) throws -> ROCCurve {
        try rocCurve(
            labels: [Bool](repeating: true, count: inScores.count) + [Bool](repeating: false, count: outScores.count),
            scores: inScores + outScores)
    }

    /// Fraction of samples rejected (score < threshold).
    public static func rejectionRate(scores: [Double], threshold: Double) -> Double {
        guard !scores.isEmpty else { return 0 }
        return Double(scores.filter { !Calibration.accepts($0, threshold: threshold) }.count) / Double(scores.count)
    }
}
