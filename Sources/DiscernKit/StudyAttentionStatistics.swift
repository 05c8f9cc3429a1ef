import DiscernRobustness

// The attention-vs-error statistics of the study: whether errors the network made confidently looked at
// larger areas than the errors it was unsure about. They belong to the study, not to the CAM library, which
// only makes the maps (AttentionArea turns one map into the area these statistics compare).

/// The study's claim, measured: do "apparent" misclassifications (high score yet wrong) have larger
/// attention areas than "understandable" ones (low score)? Groups, medians, Mann–Whitney U p-values,
/// and a plain statement of what so few errors can support.
public struct AttentionAnalysis: Codable, Sendable, Equatable {
    public struct Sample: Sendable {
        public let area: Double
        public let score: Double
        public let correct: Bool
        public init(area: Double, score: Double, correct: Bool) {
            self.area = area
            self.score = score
            self.correct = correct
        }
    }
    public struct Group: Codable, Sendable, Equatable {
        public let count: Int
        public let medianArea: Double?
        public let areas: [Double]
    }
    /// A Mann–Whitney test: the U statistic of the first group, its p-value, and whether it is exact (the
    /// statistics' own symbols, also the keys of metrics.json).
    public struct Comparison: Codable, Sendable, Equatable {
        public let u: Double
        public let p: Double
        public let exact: Bool
    }

    public let threshold: Double  // τ of the attention area
    public let scoreSplit: Double?  // errors with score ≥ split are "apparent"
    public let correct: Group
    public let apparent: Group
    public let understandable: Group
    public let apparentVsUnderstandable: Comparison?
    public let errorsVsCorrect: Comparison?
    public let verdict: String

    /// - scoreSplit: the score separating apparent from understandable errors; by default the
    ///   median score of the errors (so the two groups are as equal as the data allow).
    public init(samples: [Sample], threshold: Double = 0.5, scoreSplit: Double? = nil) {
        let errors = samples.filter { !$0.correct }
        let split = scoreSplit ?? Stats.median(errors.map(\.score))
        func group(_ members: [Sample]) -> Group {
            Group(count: members.count, medianArea: Stats.median(members.map(\.area)), areas: members.map(\.area))
        }
        // Without a split (no errors) every error counts as understandable, as does a score below the split.
        let apparentErrors = split.map { cut in errors.filter { $0.score >= cut } } ?? []
        let understandableErrors = split.map { cut in errors.filter { $0.score < cut } } ?? errors
        self.threshold = threshold
        self.scoreSplit = split
        correct = group(samples.filter(\.correct))
        apparent = group(apparentErrors)
        understandable = group(understandableErrors)
        func compare(_ first: [Sample], _ second: [Sample]) -> Comparison? {
            // The one Mann–Whitney implementation (DiscernRobustness, checked against scipy); nil when a group
            // is empty.
            (try? MannWhitney.test(first.map(\.area), second.map(\.area))).map {
                Comparison(u: $0.u1, p: $0.pValue, exact: $0.method == .exact)
            }
        }
        apparentVsUnderstandable = compare(apparentErrors, understandableErrors)
        errorsVsCorrect = compare(errors, samples.filter(\.correct))
        verdict = Self.verdict(apparentErrors.count, understandableErrors.count, apparentVsUnderstandable)
    }

    static func verdict(_ apparent: Int, _ understandable: Int, _ comparison: Comparison?) -> String {
        guard let comparison else {
            return "Not testable: \(apparent) apparent and \(understandable) understandable errors — "
                + "at least one group is empty."
        }
        // With n1·n2 arrangements the smallest attainable two-sided p is 2/C(n1+n2, n1).
        var arrangements = 1.0
        for k in 0..<apparent {
            arrangements = arrangements * Double(understandable + apparent - k) / Double(k + 1)
        }
        let minP = min(1, 2 / arrangements)
        let sizes = "\(apparent) apparent vs \(understandable) understandable errors"
        if minP > 0.05 {
            return
                "Cannot support or refute the claim: with \(sizes) no outcome could reach p < 0.05 (smallest possible"
                    + " p ≈ \(String(format: "%.2g", minP)))."
        }
        let pValue = String(format: "%.3g", comparison.p)
        if comparison.p < 0.05 {
            return "Areas differ (Mann–Whitney p = \(pValue), \(sizes)); a small-sample result, read it as a hint, "
                + "not a law."
        }
        return "No detectable difference (Mann–Whitney p = \(pValue), \(sizes)); with so few errors, absence of "
            + "evidence is weak evidence."
    }
}

/// Small summaries used by the attention-area analysis.
enum Stats {
    /// numpy.median: the mean of the middle two for even counts; nil when empty.
    static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : MannWhitney.median(values)
    }
}
