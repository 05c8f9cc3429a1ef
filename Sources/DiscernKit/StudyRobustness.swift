import Foundation
import DiscernEngine
import DiscernTraining
import DiscernRobustness

/// The robustness part of a run: every OOD score on validation, test, unknown and shifted sets, the calibrated
/// verdict (two questions, or the study's single score), how well each score separates the unknown sets (AUROC,
/// FPR95, AUPR) and what the verdict keeps and flags on the test and shifted sets.
public struct RobustnessOutcome: Sendable {
    public struct UnknownSet: Sendable {
        public var name: String
        public var count: Int
        public var scores: [OODScoreKind: [Double]]
        /// Test (in) vs this set (out), per score.
        public var metrics: [OODScoreKind: OODMetricSet]
        /// Share not accepted by the verdict, and the share it calls unknown.
        public var rejectedFraction: Double
        public var unknownFraction: Double
        public var rejectedFractionByScore: [OODScoreKind: Double]
        /// Test vs this set on the verdict's first score (the unknown question's, or the single score).
        public var verdictMetrics: OODMetricSet?
    }
    public var detector: OODDetector
    /// The unknown question's score (or the single score).
    public var choice: Calibration.Choice
    /// Held-out AURC of each confidence score.
    public var unsureAURC: [OODScoreKind: Double]
    /// Per score, calibrated on held-out and shifted held-out images.
    public var thresholds: [OODScoreKind: OODThreshold]
    public var rule: VerdictRule
    public var calibration: CalibrationSummary
    public var validationScores: [OODScoreKind: [Double]]
    public var testScores: [OODScoreKind: [Double]]
    public var trainScores: [OODScoreKind: [Double]]
    public var testVerdicts: [Verdict]
    public var unknown: [UnknownSet]
    public var shifted: [ShiftReport]
    public var testSelective: SelectiveResult
    public var testShift: ShiftReport
    public var riskCoverage: [OODScoreKind: RiskCoverageCurve]
    public var testAcceptedByScore: [OODScoreKind: Double]

    /// The threshold the unknown-image panels draw: the unknown question's (or the single score's).
    public var verdict: OODThreshold { rule.thresholds[0] }

    static func matrix(_ tensor: Tensor) throws -> Matrix { try Matrix(tensor) }

    /// What the calibration was done on, for the report and metrics.json.
    public struct CalibrationSummary: Sendable {
        public var heldOut: Int
        public var shiftedCopies: Int
        public var reference: Int
        public var heldOutAccuracy: Double
        public var shiftedAccuracy: Double?
        /// Thumbnail copies, seen by the unsure question only.
        public var thumbnailCopies: Int
        public var thumbnailAccuracy: Double?
        /// Photos with a shorter side below this many pixels have their own unsure threshold (0: one for all sizes),
        /// calibrated on `lowResolutionImages` images (thumbnail copies and held-out photos that small, among those
        /// the unknown question lets through).
        public var lowResolutionBelow: Int
        public var lowResolutionImages: Int
    }

    /// Every score on the evaluated sets, the verdict on them and its trade-offs.
    static func compute(_ evaluation: StudyEvaluation, views: [Tensor], head: LinearParams,
                        options: StudyOptions) throws -> RobustnessOutcome {
        let train = evaluation.train.images
        let calibrated = try calibrate(train: train, views: views, validation: evaluation.validation?.images,
                                       copies: evaluation.copies, head: head, options: options)
        let detector = calibrated.detector
        let thresholds = calibrated.thresholds
        let rule = calibrated.rule
        func scores(_ set: EvaluatedSet) throws -> [OODScoreKind: [Double]] {
            try detector.allScores(logits: matrix(set.logits), features: matrix(set.features.features))
        }
        func threshold(_ score: OODScoreKind) throws -> OODThreshold {
            guard let threshold = thresholds[score] else {
                throw KitError.invalid("score \(score.rawValue) has no calibrated threshold")
            }
            return threshold
        }
        let testScores = try scores(evaluation.test.images)
        let trainScores = try scores(train)
        let correct = evaluation.test.table.rows.map(\.correct)
        let testSides = evaluation.test.images.features.shortSides
        let testVerdicts = rule.verdicts(testScores, count: correct.count, shortSides: testSides)
        let selective = try Selective.evaluate(correct: correct, accepted: testVerdicts.map(\.isAccepted))
        var riskCoverage: [OODScoreKind: RiskCoverageCurve] = [:]
        var accepted: [OODScoreKind: Double] = [:]
        for (score, values) in testScores {
            riskCoverage[score] = try Selective.riskCoverage(correct: correct, scores: values)
            accepted[score] = 1 - OODMetrics.rejectionRate(scores: values, threshold: try threshold(score).value)
        }
        let testShift = try ShiftReport.make(name: evaluation.test.name, correct: correct, scores: testScores,
                                             shortSides: testSides,
                                             rule: rule, thresholds: thresholds)
        let verdictScore = rule.thresholds[0].score
        var unknown: [UnknownSet] = []
        for set in evaluation.unknown {
            let setScores = try scores(set)
            var metrics: [OODScoreKind: OODMetricSet] = [:]
            var rejected: [OODScoreKind: Double] = [:]
            for (score, values) in setScores {
                guard let inScores = testScores[score] else {
                    throw KitError.invalid("score \(score.rawValue) was not computed on the test set")
                }
                metrics[score] = try OODMetrics.evaluate(inScores: inScores, outScores: values)
                rejected[score] = OODMetrics.rejectionRate(scores: values, threshold: try threshold(score).value)
            }
            let verdicts = rule.verdicts(setScores, count: set.features.count, shortSides: set.features.shortSides)
            func share(_ kind: VerdictKind) -> Double {
                Double(verdicts.filter { $0.kind == kind }.count) / Double(max(verdicts.count, 1))
            }
            let result = UnknownSet(name: set.name, count: set.features.count, scores: setScores, metrics: metrics,
                                    rejectedFraction: 1 - share(.accept), unknownFraction: share(.unknown),
                                    rejectedFractionByScore: rejected, verdictMetrics: metrics[verdictScore])
            unknown.append(result)
            Study.log(String(format: "%@: %d images, %.1f%% rejected (%.1f%% as unknown); AUROC of %@ %.4f", set.name,
                             set.features.count, 100 * result.rejectedFraction, 100 * result.unknownFraction,
                             verdictScore.rawValue, metrics[verdictScore]?.auroc ?? .nan))
        }
        let shifted = try evaluation.shifted.map { set in
            let report = try ShiftReport.make(name: set.name, correct: set.table.rows.map(\.correct),
                                              scores: try scores(set.images),
                                              shortSides: set.images.features.shortSides, rule: rule,
                                              thresholds: thresholds)
            Study.log(report.line)
            return report
        }
        return RobustnessOutcome(detector: detector, choice: calibrated.choice, unsureAURC: calibrated.unsureAURC,
                                 thresholds: thresholds, rule: rule, calibration: calibrated.summary,
                                 validationScores: calibrated.validationScores, testScores: testScores,
                                 trainScores: trainScores, testVerdicts: testVerdicts, unknown: unknown,
                                 shifted: shifted, testSelective: selective, testShift: testShift,
                                 riskCoverage: riskCoverage, testAcceptedByScore: accepted)
    }

    /// Thresholds and the detector go into the model file.
    func store(in model: inout ModelFile) {
        Calibrated(detector: detector, thresholds: thresholds, choice: choice, unsureAURC: unsureAURC, rule: rule,
                   validationScores: validationScores, summary: calibration).store(in: &model)
    }
}
