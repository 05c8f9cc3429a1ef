import Foundation

/// In-distribution scores against the scores of one set of proxy outliers, per score. Comparisons of one `kind`
/// (e.g. each class left out in turn) are averaged before kinds are compared.
public struct ProxyComparison: Sendable {
    public var kind: String
    public var inScores: [OODScoreKind: [Double]]
    public var outScores: [OODScoreKind: [Double]]
    public init(kind: String, inScores: [OODScoreKind: [Double]], outScores: [OODScoreKind: [Double]]) {
        self.kind = kind
        self.inScores = inScores
        self.outScores = outScores
    }
}

extension Calibration {
    /// The outcome of choosing the default score.
    public struct Choice: Codable, Sendable {
        public let score: OODScoreKind
        /// Per candidate: its metrics on the proxy kind where its AUROC is lowest.
        public let table: [OODScoreKind: OODMetricSet]
        /// Per proxy kind, per candidate: the metrics averaged over that kind's comparisons.
        public let byKind: [String: [OODScoreKind: OODMetricSet]]
        public let criterion: String
    }

    /// Chooses the default score: highest AUROC of held-out in-distribution validation scores vs a proxy
    /// outlier set (true unknowns are not available at calibration time); ties → lower FPR95 → the
    /// earlier score in `OODScoreKind.allCases`. Candidates are the keys present in both dictionaries.
    public static func chooseDefault(validationIn: [OODScoreKind: [Double]], proxyOut: [OODScoreKind: [Double]])
        throws -> Choice
    {
        try chooseDefault(comparisons: [ProxyComparison(kind: "proxy outliers", inScores: validationIn,
                                                        outScores: proxyOut)])
    }

    /// Chooses the default score by its worst proxy kind: each candidate's AUROC (and FPR95) is averaged over the
    /// comparisons of each kind, and the candidate whose lowest kind-average AUROC is highest wins; ties → lower
    /// FPR95 on that kind → the earlier score in `OODScoreKind.allCases`. A score good against one kind of proxy
    /// only (e.g. one that spots destroyed feature correlations but not a real photo of another class) loses to
    /// one good against all. Candidates are the scores present in every comparison.
    public static func chooseDefault(comparisons: [ProxyComparison]) throws -> Choice {
        guard !comparisons.isEmpty else { throw RobustnessError.invalidArgument("no proxy comparison given") }
        let kinds = comparisons.map(\.kind).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        var byKind: [String: [OODScoreKind: OODMetricSet]] = [:]
        var table: [OODScoreKind: OODMetricSet] = [:]
        var best: (score: OODScoreKind, metrics: OODMetricSet)?
        for score in OODScoreKind.allCases {
            guard comparisons.allSatisfy({ $0.inScores[score] != nil && $0.outScores[score] != nil }) else { continue }
            var worst: OODMetricSet?
            for kind in kinds {
                let sets = try comparisons.filter { $0.kind == kind }.map {
                    try OODMetrics.evaluate(inScores: $0.inScores[score]!, outScores: $0.outScores[score]!)
                }
                let mean = OODMetricSet.mean(sets)
                byKind[kind, default: [:]][score] = mean
                if worst == nil || mean.auroc < worst!.auroc { worst = mean }
            }
            guard let metrics = worst else { continue }
            table[score] = metrics
            if let leader = best?.metrics,
               !(metrics.auroc > leader.auroc || (metrics.auroc == leader.auroc && metrics.fpr95 < leader.fpr95)) {
                continue
            }
            best = (score, metrics)
        }
        guard let best else {
            throw RobustnessError.invalidArgument("no score has both validation and proxy values")
        }
        let criterion = kinds.count == 1
            ? "highest AUROC of validation (in) vs \(kinds[0]), then lowest FPR95"
            : "highest worst-case AUROC of validation (in) vs each kind of proxy (\(kinds.joined(separator: "; "))), "
                + "then lowest FPR95"
        return Choice(score: best.score, table: table, byKind: byKind, criterion: criterion)
    }
}

extension OODMetricSet {
    /// Field-wise mean (the set itself when there is one).
    static func mean(_ sets: [OODMetricSet]) -> OODMetricSet {
        let n = Double(max(sets.count, 1))
        return OODMetricSet(auroc: sets.map(\.auroc).reduce(0, +) / n, auprIn: sets.map(\.auprIn).reduce(0, +) / n,
                            auprOut: sets.map(\.auprOut).reduce(0, +) / n, fpr95: sets.map(\.fpr95).reduce(0, +) / n)
    }
}
