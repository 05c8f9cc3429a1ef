import Foundation

/// What a kind of proxy unknowns may do in choosing the score.
public enum ProxyRole: Sendable {
    /// Pictures of something (a class left out, close-ups): the candidates are ranked by their worst such kind.
    case ranks
    /// Not pictures (e.g. permuted feature columns, which no image produces): a candidate must separate them
    /// (AUROC at least `Calibration.screeningAUROC`) to stay a candidate, but how many of them pass its threshold
    /// does not rank it.
    case screens
}

/// In-distribution scores against the scores of one set of proxy outliers, per score. Comparisons of one `kind`
/// (e.g. each class left out in turn) are averaged before kinds are compared.
public struct ProxyComparison: Sendable {
    public var kind: String
    public var inScores: [OODScoreKind: [Double]]
    public var outScores: [OODScoreKind: [Double]]
    public var role: ProxyRole
    public init(kind: String, inScores: [OODScoreKind: [Double]], outScores: [OODScoreKind: [Double]],
                role: ProxyRole = .ranks) {
        self.kind = kind
        self.inScores = inScores
        self.outScores = outScores
        self.role = role
    }
}

/// One candidate score against one kind of proxy unknowns (the mean over that kind's comparisons).
public struct ProxyResult: Codable, Equatable, Sendable {
    /// Share of the proxy unknowns that the threshold accepting `acceptFraction` of the in-distribution scores
    /// lets through: what the verdict would call a trained class.
    public let passing: Double
    public let auroc: Double

    static func mean(_ results: [ProxyResult]) -> ProxyResult {
        let n = Double(max(results.count, 1))
        return ProxyResult(passing: results.map(\.passing).reduce(0, +) / n,
                           auroc: results.map(\.auroc).reduce(0, +) / n)
    }

    /// Worse: more unknowns pass, or as many with a lower AUROC.
    public func isWorse(than other: ProxyResult) -> Bool {
        passing > other.passing || (passing == other.passing && auroc < other.auroc)
    }
}

extension Calibration {
    /// The outcome of choosing the default score.
    public struct Choice: Codable, Sendable {
        public let score: OODScoreKind
        /// Per candidate: its result on the ranking proxy kind where it does worst.
        public let table: [OODScoreKind: ProxyResult]
        /// Per proxy kind, per candidate: the results averaged over that kind's comparisons.
        public let byKind: [String: [OODScoreKind: ProxyResult]]
        /// Candidates that did not separate a screening kind; ranked after every other.
        public let screenedOut: Set<OODScoreKind>
        public let criterion: String

        /// The candidates best first (the winner first): those that passed the screen, fewer passing on the worst
        /// ranking kind, then a higher AUROC there, then the order of `OODScoreKind.allCases`.
        public var ranked: [(score: OODScoreKind, worst: ProxyResult)] { Choice.ranked(table, screenedOut) }

        static func ranked(_ table: [OODScoreKind: ProxyResult], _ screenedOut: Set<OODScoreKind>)
            -> [(score: OODScoreKind, worst: ProxyResult)]
        {
            let order = OODScoreKind.allCases
            return table.map { (score: $0.key, worst: $0.value) }.sorted { a, b in
                let aOut = screenedOut.contains(a.score), bOut = screenedOut.contains(b.score)
                if aOut != bOut { return bOut }
                if a.worst.isWorse(than: b.worst) { return false }
                if b.worst.isWorse(than: a.worst) { return true }
                return order.firstIndex(of: a.score)! < order.firstIndex(of: b.score)!
            }
        }
    }

    /// Chooses the default score against one proxy outlier set (true unknowns are not available at calibration
    /// time): the rule of `chooseDefault(comparisons:acceptFraction:)` with one comparison.
    public static func chooseDefault(validationIn: [OODScoreKind: [Double]], proxyOut: [OODScoreKind: [Double]],
                                     acceptFraction: Double = 0.95) throws -> Choice {
        try chooseDefault(comparisons: [ProxyComparison(kind: "proxy outliers", inScores: validationIn,
                                                        outScores: proxyOut)],
                          acceptFraction: acceptFraction)
    }

    /// A candidate must rank a screening kind below the in-distribution scores at least this well.
    public static let screeningAUROC = 0.9

    /// Chooses the default score by its worst proxy kind, at the operating point the verdict uses: per kind, the
    /// share of proxy unknowns that pass the threshold accepting `acceptFraction` of that comparison's
    /// in-distribution scores (averaged over the kind's comparisons), and the candidate whose worst ranking kind
    /// lets the fewest through wins; ties → higher AUROC on that kind → the earlier score in
    /// `OODScoreKind.allCases`. The threshold is where the verdict works, so a score that ranks well overall
    /// (AUROC) but lets a tail of unknowns through at that threshold loses; a score good against one kind of proxy
    /// only loses to one good against all. Screening kinds only exclude the candidates that do not separate them
    /// (unless that would exclude every candidate); without a ranking kind they rank. Candidates are the scores
    /// present in every comparison.
    public static func chooseDefault(comparisons: [ProxyComparison], acceptFraction: Double = 0.95) throws
        -> Choice
    {
        guard !comparisons.isEmpty else { throw RobustnessError.invalidArgument("no proxy comparison given") }
        let kinds = comparisons.map(\.kind).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let screening = comparisons.contains { $0.role == .ranks }
            ? Set(comparisons.filter { $0.role == .screens }.map(\.kind)) : []
        var byKind: [String: [OODScoreKind: ProxyResult]] = [:]
        var table: [OODScoreKind: ProxyResult] = [:]
        var screenedOut = Set<OODScoreKind>()
        for score in OODScoreKind.allCases {
            guard comparisons.allSatisfy({ $0.inScores[score] != nil && $0.outScores[score] != nil }) else { continue }
            var worst: ProxyResult?
            for kind in kinds {
                let results = try comparisons.filter { $0.kind == kind }.map { comparison in
                    let inScores = comparison.inScores[score]!, outScores = comparison.outScores[score]!
                    return ProxyResult(
                        passing: try OODMetrics.fpr(atTPR: acceptFraction, inScores: inScores, outScores: outScores),
                        auroc: try OODMetrics.auroc(inScores: inScores, outScores: outScores))
                }
                let mean = ProxyResult.mean(results)
                byKind[kind, default: [:]][score] = mean
                if screening.contains(kind) {
                    if mean.auroc < screeningAUROC { screenedOut.insert(score) }
                } else if worst.map({ mean.isWorse(than: $0) }) ?? true {
                    worst = mean
                }
            }
            table[score] = worst
        }
        if screenedOut.isSuperset(of: table.keys) { screenedOut = [] }
        guard let best = Choice.ranked(table, screenedOut).first else {
            throw RobustnessError.invalidArgument("no score has both validation and proxy values")
        }
        let operatingPoint = String(format: "the threshold accepting %g%% of the in-distribution scores",
                                    100 * acceptFraction)
        let ranking = kinds.filter { !screening.contains($0) }
        var criterion = ranking.count == 1
            ? "fewest \(ranking[0]) passing \(operatingPoint), then highest AUROC"
            : "fewest proxy unknowns passing \(operatingPoint) on the worst kind "
                + "(\(ranking.joined(separator: "; "))), then highest AUROC"
        let screens = kinds.filter { screening.contains($0) }
        if !screens.isEmpty {
            criterion += String(format: ", among the scores that separate %@ (AUROC at least %g)",
                                screens.joined(separator: "; "), screeningAUROC)
        }
        return Choice(score: best.score, table: table, byKind: byKind, screenedOut: screenedOut,
                      criterion: criterion)
    }
}
