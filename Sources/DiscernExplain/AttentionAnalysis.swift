import DiscernRobustness
/// The study's claim, measured: do "apparent" misclassifications (high score yet wrong) have larger
/// attention areas than "understandable" ones (low score)? Groups, medians, Mann–Whitney U p-values,
/// and a plain statement of what so few errors can support.
public struct AttentionAnalysis: Codable, Sendable, Equatable {
    public struct Sample: Sendable {
        public let area: Double, score: Double, correct: Bool
        public init(area: Double, score: Double, correct: Bool) { self.area = area; self.score = score; self.correct = correct }
    }
    public struct Group: Codable, Sendable, Equatable {
        public let count: Int
        public let medianArea: Double?
        public let areas: [Double]
    }
    public struct Comparison: Codable, Sendable, Equatable {
        public let u: Double, p: Double, exact: Bool
    }

    public let threshold: Double          // τ of the attention area
    public let scoreSplit: Double?        // errors with score ≥ split are "apparent"
    public let correct: Group, apparent: Group, understandable: Group
    public let apparentVsUnderstandable: Comparison?
    public let errorsVsCorrect: Comparison?
    public let verdict: String

    /// - scoreSplit: the score separating apparent from understandable errors; by default the
    ///   median score of the errors (so the two groups are as equal as the data allow).
    public init(samples: [Sample], threshold: Double = 0.5, scoreSplit: Double? = nil) {
        let errors = samples.filter { !$0.correct }
        let split = scoreSplit ?? Stats.median(errors.map(\.score))
        func group(_ s: [Sample]) -> Group { Group(count: s.count, medianArea: Stats.median(s.map(\.area)), areas: s.map(\.area)) }
        let app = errors.filter { split != nil && $0.score >= split! }
        let und = errors.filter { split == nil || $0.score < split! }
        self.threshold = threshold; self.scoreSplit = split
        correct = group(samples.filter(\.correct)); apparent = group(app); understandable = group(und)
        func cmp(_ a: [Sample], _ b: [Sample]) -> Comparison? {
            // The one Mann–Whitney implementation (DiscernRobustness, checked against scipy); nil when a group is empty.
            (try? MannWhitney.test(a.map(\.area), b.map(\.area))).map { Comparison(u: $0.u1, p: $0.pValue, exact: $0.method == .exact) }
        }
        apparentVsUnderstandable = cmp(app, und)
        errorsVsCorrect = cmp(errors, samples.filter(\.correct))
        verdict = Self.verdict(app.count, und.count, apparentVsUnderstandable)
    }

    static func verdict(_ a: Int, _ u: Int, _ c: Comparison?) -> String {
        guard let c else {
            return "Not testable: \(a) apparent and \(u) understandable errors — at least one group is empty."
        }
        // With n1·n2 arrangements the smallest attainable two-sided p is 2/C(n1+n2, n1).
        var minP = 2.0
        var comb = 1.0
        for k in 0..<a { comb = comb * Double(u + a - k) / Double(k + 1) }
        minP = min(1, 2 / comb)
        let sizes = "\(a) apparent vs \(u) understandable errors"
        if minP > 0.05 {
            return "Cannot support or refute the claim: with \(sizes) no outcome could reach p < 0.05 (smallest possible p ≈ \(String(format: "%.2g", minP)))."
        }
        if c.p < 0.05 {
            return "Areas differ (Mann–Whitney p = \(String(format: "%.3g", c.p)), \(sizes)); a small-sample result, read it as a hint, not a law."
        }
        return "No detectable difference (Mann–Whitney p = \(String(format: "%.3g", c.p)), \(sizes)); with so few errors, absence of evidence is weak evidence."
    }
}
