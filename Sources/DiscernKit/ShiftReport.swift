import Foundation
import DiscernRobustness

/// What the verdict and each score do on one labelled set of photos of the trained classes (the test set, or a
/// `--shifted` folder of photos taken elsewhere): how many correct answers they keep and how many errors they flag.
public struct ShiftReport: Sendable {
    public struct Tradeoff: Sendable, Equatable {
        /// Share of correctly classified images accepted.
        public var correctKept: Double
        /// Share of misclassified images not accepted (unknown or unsure).
        public var errorsFlagged: Double
    }
    public var name: String
    public var count: Int
    public var accuracy: Double
    public var errors: Int
    public var verdict: Tradeoff
    /// Shares of all images per verdict.
    public var verdictShares: [VerdictKind: Double]
    /// Each score alone at its own calibrated threshold.
    public var byScore: [OODScoreKind: Tradeoff]
    /// Images held to the verdict's low-resolution unsure threshold, and its size cut (nil: the rule has none).
    public var lowResolution: (images: Int, below: Int)?

    static func tradeoff(correct: [Bool], accepted: [Bool]) -> Tradeoff {
        let right = correct.filter { $0 }.count, wrong = correct.count - right
        let kept = zip(correct, accepted).filter { $0.0 && $0.1 }.count
        let flagged = zip(correct, accepted).filter { !$0.0 && !$0.1 }.count
        return Tradeoff(correctKept: right > 0 ? Double(kept) / Double(right) : 1,
                        errorsFlagged: wrong > 0 ? Double(flagged) / Double(wrong) : 1)
    }

    /// `shortSides`: each image's decoded shorter side, for the verdict's low-resolution threshold (nil: unknown).
    static func make(name: String, correct: [Bool], scores: [OODScoreKind: [Double]], shortSides: [Int]?,
                     rule: VerdictRule, thresholds: [OODScoreKind: OODThreshold]) throws -> ShiftReport {
        let verdicts = rule.verdicts(scores, count: correct.count, shortSides: shortSides)
        let images = Double(max(correct.count, 1))
        var shares: [VerdictKind: Double] = [:]
        for kind in VerdictKind.allCases { shares[kind] = Double(verdicts.filter { $0.kind == kind }.count) / images }
        var byScore: [OODScoreKind: Tradeoff] = [:]
        for (score, values) in scores {
            guard let threshold = thresholds[score] else { continue }
            byScore[score] = tradeoff(correct: correct, accepted: values.map { threshold.accepts($0) })
        }
        let right = correct.filter { $0 }.count
        var lowResolution: (images: Int, below: Int)?
        if case let .twoQuestions(_, unsure) = rule, let below = unsure.lowResolutionBelow,
           unsure.lowResolutionValue != nil {
            lowResolution = ((shortSides ?? []).filter { unsure.isLowResolution(shortSide: $0) }.count, below)
        }
        return ShiftReport(name: name, count: correct.count, accuracy: Double(right) / images,
                           errors: correct.count - right,
                           verdict: tradeoff(correct: correct, accepted: verdicts.map(\.isAccepted)),
                           verdictShares: shares, byScore: byScore, lowResolution: lowResolution)
    }

    /// One line for the log and the terminal.
    public var line: String {
        String(format: "%@: %d images, accuracy %.4f; %.1f%% of correct ones accepted, %d of %d errors flagged "
               + "(%.1f%%); %.1f%% unknown, %.1f%% unsure", name, count, accuracy, 100 * verdict.correctKept,
               Int((verdict.errorsFlagged * Double(errors)).rounded()), errors, 100 * verdict.errorsFlagged,
               100 * (verdictShares[.unknown] ?? 0), 100 * (verdictShares[.unsure] ?? 0))
            + (lowResolution.map { "; \($0.images) under \($0.below) px (the low-resolution threshold)" } ?? "")
    }

    func json() -> [String: Any] {
        let shares = verdictShares.byName
        return ["images": count, "accuracy": accuracy, "errors": errors,
                "verdict": ["correct_accepted": verdict.correctKept, "errors_flagged": verdict.errorsFlagged,
                            "shares": shares] as [String: Any],
                "low_resolution_images": lowResolution.map { $0.images as Any } ?? NSNull(),
                "by_score": byScore.byName.mapValues { tradeoff in
                    ["correct_accepted": tradeoff.correctKept, "errors_flagged": tradeoff.errorsFlagged]
                }]
    }
}
