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

    /// The detector, per-score thresholds on held-out images and the verdict rule: all that the model file needs.
    struct Calibrated {
        var detector: OODDetector
        var thresholds: [OODScoreKind: OODThreshold]
        var choice: Calibration.Choice
        var unsureAURC: [OODScoreKind: Double]
        var rule: VerdictRule
        var validationScores: [OODScoreKind: [Double]]
        var summary: CalibrationSummary
    }

    /// Fits the detector on the training features plus their augmented views, then calibrates both questions on
    /// the held-out images together with their everyday shifted copies (`PhotoShift`); the unsure question also
    /// sees the thumbnail copies that the unknown question lets through. Nothing else is looked at.
    static func calibrate(train: EvaluatedSet, views: [Tensor], validation: EvaluatedSet?, copies: CalibrationCopies,
                          head: LinearParams, options: StudyOptions) throws -> Calibrated {
        let clean = try matrix(train.features.features)
        var reference = clean.values
        var referenceLabels = train.features.labels
        for view in views where view.shape == train.features.features.shape {
            reference += view.data.map(Double.init)
            referenceLabels += train.features.labels
        }
        let referenceMatrix = try Matrix(rows: referenceLabels.count, cols: clean.cols, values: reference)
        Study.log("fitting KDEs on \(train.features.count) training images and feature statistics on "
                  + "\(referenceLabels.count) (the training images and \(views.count) augmented views of each)")
        let map = try LinearMap(weight: try matrix(head.weight), bias: head.bias.data.map(Double.init))
        let detector = try OODDetector.fit(trainLogits: matrix(train.logits), trainLabels: train.features.labels,
                                           trainFeatures: clean, reference: (referenceMatrix, referenceLabels),
                                           head: map)
        for (score, why) in detector.unavailable.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            Study.log("score \(score.rawValue) unavailable: \(why)")
        }
        let heldOut = validation ?? train
        if validation == nil {
            Study.log("no validation split: thresholds are calibrated on the training images (optimistic)")
        }
        // Held-out images and their shifted copies, pooled.
        var pooledLogits = try matrix(heldOut.logits)
        var pooledFeatures = try matrix(heldOut.features.features)
        var labels = heldOut.features.labels
        if let shifted = copies.shifted {
            pooledLogits = try Matrix(rows: pooledLogits.rows + shifted.features.count, cols: pooledLogits.cols,
                                      values: pooledLogits.values + (try matrix(shifted.logits)).values)
            pooledFeatures = try Matrix(rows: pooledFeatures.rows + shifted.features.count, cols: pooledFeatures.cols,
                                        values: pooledFeatures.values + (try matrix(shifted.features.features)).values)
            labels += shifted.features.labels
        }
        let correct = zip(argmaxRows(pooledLogits), labels).map { $0 == $1 }
        let scores = try detector.allScores(logits: pooledLogits, features: pooledFeatures)
        var thresholds: [OODScoreKind: OODThreshold] = [:]
        for (score, values) in scores {
            thresholds[score] = try Calibration.calibrate(score: score, validationScores: values,
                                                          acceptFraction: options.acceptFraction,
                                                          confidence: options.calibrationConfidence)
        }
        let cleanCount = heldOut.features.count
        // Thumbnails: scored, but kept out of the per-score thresholds (they would stretch "a trained class" to cover
        // anything at 30 px); the unsure question below is calibrated on those the unknown question lets through.
        var thumbnailScores: [OODScoreKind: [Double]] = [:]
        var thumbnailCorrect: [Bool] = []
        if let thumbnails = copies.thumbnails {
            let logits = try matrix(thumbnails.logits)
            thumbnailScores = try detector.allScores(logits: logits, features: try matrix(thumbnails.features.features))
            thumbnailCorrect = zip(argmaxRows(logits), thumbnails.features.labels).map { $0 == $1 }
        }
        func share(_ flags: some Collection<Bool>) -> Double? {
            flags.isEmpty ? nil : Double(flags.filter { $0 }.count) / Double(flags.count)
        }
        var summary = CalibrationSummary(
            heldOut: cleanCount, shiftedCopies: labels.count - cleanCount, reference: referenceLabels.count,
            heldOutAccuracy: share(correct.prefix(cleanCount)) ?? 0,
            shiftedAccuracy: share(correct.dropFirst(cleanCount)),
            thumbnailCopies: thumbnailCorrect.count, thumbnailAccuracy: share(thumbnailCorrect),
            lowResolutionBelow: 0, lowResolutionImages: 0)
        // A shifted copy keeps its photo's decoded size; a thumbnail copy is low-resolution whatever its photo's.
        let pooledShortSides = heldOut.features.shortSides + (copies.shifted?.features.shortSides ?? [])
        let lowResolutionBelow = options.lowResolutionCut
        // Two kinds of proxy outliers stand in for unknowns when choosing the unknown score: feature columns
        // permuted independently, and each class's photos against a reference without that class.
        let proxyFeatures = ProxyOutliers.permutedColumns(try matrix(heldOut.features.features),
                                                          seed: options.seed &+ 1)
        let proxyTensor = Tensor(shape: heldOut.features.features.shape, data: proxyFeatures.values.map(Float.init))
        let proxyScores = try detector.allScores(logits: matrix(try head.logits(proxyTensor)), features: proxyFeatures)
        func proxyComparisons(_ candidates: [OODScoreKind: [Double]]) throws -> [ProxyComparison] {
            let permuted = ProxyComparison(kind: "permuted feature columns", inScores: candidates,
                                           outScores: proxyScores.filter { candidates[$0.key] != nil })
            let classHeldOut = try ClassHeldOutProxy.comparisons(
                detector: detector, reference: (referenceMatrix, referenceLabels), logits: pooledLogits,
                features: pooledFeatures, labels: labels, scores: Array(candidates.keys))
            return [permuted] + classHeldOut
        }
        let pooled = CalibrationScores(scores: scores, thresholds: thresholds)

        let rule: VerdictRule
        let choice: Calibration.Choice
        let aurc: [OODScoreKind: Double]
        if let single = options.score {
            let calibrated = try pooled.threshold(single, option: "--score", question: nil)
            choice = try Calibration.chooseDefault(comparisons: proxyComparisons(scores))
            rule = .singleScore(options.fixedThreshold.map { OODThreshold(score: single, value: $0) }
                                ?? calibrated)
            aurc = [:]
            Study.log(String(format: "verdict: single score %@, threshold %.6g (%@)", single.rawValue,
                             rule.thresholds[0].value, options.fixedThreshold == nil ? "calibrated" : "fixed"))
        } else {
            let candidates = scores.filter { $0.key.question == .unknown }
            choice = try Calibration.chooseDefault(comparisons: proxyComparisons(candidates))
            Study.log("unknown score by worst-case AUROC against the proxy outliers: " + choiceSummary(choice))
            let unknownScore = options.unknownScore ?? choice.score
            let unknown = try pooled.threshold(unknownScore, option: "--unknown-score", question: .unknown)
            let unknownValues = try pooled.values(unknownScore)
            let thumbnailUnknown = thumbnailScores[unknownScore] ?? []
            // "Unsure" is calibrated on what the unknown question lets through, as the verdict asks it second:
            // held-out images, their shifted copies and their thumbnails.
            let passing = unknownValues.indices.filter { unknown.accepts(unknownValues[$0]) }
            let passingThumbnails = thumbnailUnknown.indices.filter { unknown.accepts(thumbnailUnknown[$0]) }
            let passingCorrect = passing.map { correct[$0] } + passingThumbnails.map { thumbnailCorrect[$0] }
            let passingLowResolution =
                passing.map { lowResolutionBelow > 0 && pooledShortSides[$0] < lowResolutionBelow }
                + passingThumbnails.map { _ in lowResolutionBelow > 0 }
            func passingScores(_ score: OODScoreKind) throws -> [Double] {
                guard let values = scores[score] else {
                    throw KitError.invalid("score \(score.rawValue) was not computed")
                }
                let thumbnailValues = thumbnailScores[score] ?? []
                guard passingThumbnails.isEmpty || thumbnailValues.count == thumbnailCorrect.count else {
                    throw KitError.invalid("score \(score.rawValue) was not computed on the thumbnail copies")
                }
                return passing.map { values[$0] } + passingThumbnails.map { thumbnailValues[$0] }
            }
            var confidence: [OODScoreKind: [Double]] = [:]
            for score in scores.keys where score.question == .unsure {
                confidence[score] = try passingScores(score)
            }
            let chosen = try Selective.chooseScore(correct: passingCorrect, scores: confidence)
            aurc = chosen.aurc
            let unsureScore = options.unsureScore ?? chosen.score
            _ = try pooled.threshold(unsureScore, option: "--unsure-score", question: .unsure)
            let unsureValues = try passingScores(unsureScore)
            // Low-resolution photos (thumbnail copies among them) are held to a threshold of their own.
            let strata = try Selective.resolutionThresholds(correct: passingCorrect, scores: unsureValues,
                                                            lowResolution: passingLowResolution,
                                                            maxRisk: options.maxRisk)
            let normal = passingCorrect.indices.filter { !passingLowResolution[$0] }
            var value = strata.normal
            var atypical: (below: Double, value: Double)?
            if let typical = options.typicalFraction, !normal.isEmpty {
                // Typical = an unknown score at least that of `typical` of the clean held-out photos.
                let cut = try Calibration.threshold(inDistribution: Array(unknownValues.prefix(cleanCount)),
                                                    acceptFraction: typical)
                func pick<Element>(_ values: [Element]) -> [Element] { normal.map { values[$0] } }
                let typicalStrata = try Selective.stratifiedThresholds(
                    correct: pick(passingCorrect), scores: pick(unsureValues),
                    typicality: pick(try passingScores(unknownScore)), cut: cut, maxRisk: options.maxRisk)
                value = typicalStrata.typical
                atypical = typicalStrata.atypical.map { (cut, $0) }
            }
            // Never looser than any threshold of full-size photos.
            let lowResolutionValue = strata.lowResolution.map { max($0, value, atypical?.value ?? $0) }
            // No threshold reaches the risk: +inf ("unsure" on every such image), stored as the largest finite
            // number because JSON (the model file, predict --json) has no infinity.
            func finite(_ value: Double) -> Double { value == .infinity ? .greatestFiniteMagnitude : value }
            let unsure = OODThreshold(score: unsureScore, value: finite(value), targetRisk: options.maxRisk,
                                      atypicalBelow: atypical?.below, atypicalValue: atypical.map { finite($0.value) },
                                      lowResolutionBelow: lowResolutionValue == nil ? nil : lowResolutionBelow,
                                      lowResolutionValue: lowResolutionValue.map(finite))
            if strata.lowResolution != nil {
                summary.lowResolutionBelow = lowResolutionBelow
                summary.lowResolutionImages = passingCorrect.count - normal.count
            }
            rule = .twoQuestions(unknown: unknown, unsure: unsure)
            Study.log(String(format: "unknown: %@ ≥ %.6g (accepts %.0f%% of %d held-out photos and %d shifted "
                             + "copies); "
                             + "unsure: %@ ≥ %.6g (at most %.1f%% errors among %d accepted ones)",
                             unknownScore.rawValue, unknown.value, 100 * options.acceptFraction, cleanCount,
                             summary.shiftedCopies, unsureScore.rawValue, unsure.value, 100 * options.maxRisk,
                             normal.count))
            if let below = unsure.lowResolutionBelow, let strict = unsure.lowResolutionValue {
                Study.log(String(format: "unsure on photos under %d px (the shorter side): %@ ≥ %.6g (at most %.1f%% "
                                 + "errors among %d such images: %d of %d thumbnail copies, the rest held-out "
                                 + "photos)", below, unsureScore.rawValue, strict, 100 * options.maxRisk,
                                 summary.lowResolutionImages, passingThumbnails.count, thumbnailCorrect.count))
            }
            if let cut = unsure.atypicalBelow, let strict = unsure.atypicalValue {
                Study.log(String(format: "unsure on atypical images (%@ < %.6g): %@ ≥ %.6g", unknownScore.rawValue,
                                 cut, unsureScore.rawValue, strict))
            }
        }
        return Calibrated(detector: detector, thresholds: thresholds, choice: choice, unsureAURC: aurc, rule: rule,
                          validationScores: scores, summary: summary)
    }

    /// "knn 0.976 (each class left out of the reference 0.976, permuted feature columns 0.997); …" for the three
    /// candidates with the best worst case, best first.
    static func choiceSummary(_ choice: Calibration.Choice) -> String {
        let kinds = choice.byKind.keys.sorted()
        let ranked = choice.table.sorted { $0.value.auroc > $1.value.auroc }.prefix(3)
        return ranked.map { score, worst in
            let parts = kinds.compactMap { kind in
                choice.byKind[kind]?[score].map { String(format: "%@ %.4f", kind, $0.auroc) }
            }
            return String(format: "%@ %.4f (%@)", score.rawValue, worst.auroc, parts.joined(separator: ", "))
        }.joined(separator: "; ")
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

/// The pooled held-out scores and their thresholds, looked up by a score the user may have named.
struct CalibrationScores {
    let scores: [OODScoreKind: [Double]]
    let thresholds: [OODScoreKind: OODThreshold]

    func values(_ score: OODScoreKind) throws -> [Double] {
        guard let values = scores[score] else { throw unavailable(score, "--score") }
        return values
    }

    /// The calibrated threshold of `score`; an error when it is not available or answers the other question.
    func threshold(_ score: OODScoreKind, option: String, question: Question?) throws -> OODThreshold {
        guard let threshold = thresholds[score], scores[score] != nil else {
            throw unavailable(score, option)
        }
        if let question, score.question != question {
            let names = OODScoreKind.allCases.filter { scores[$0] != nil && $0.question == question }
            throw KitError.invalid("\(option) \(score.rawValue): answers the other question (choose from "
                                   + "\(names.map(\.rawValue).joined(separator: ", ")))")
        }
        return threshold
    }

    private func unavailable(_ score: OODScoreKind, _ option: String) -> KitError {
        let names = scores.keys.map(\.rawValue).sorted().joined(separator: ", ")
        return .invalid("\(option) \(score.rawValue): not available (choose from \(names))")
    }
}

extension RobustnessOutcome.Calibrated {
    func store(in model: inout ModelFile) {
        model.detector = detector
        model.metadata.rule = rule
        model.metadata.thresholds = thresholds.mapValues(\.value)
        model.metadata.scoreChoice = choice.criterion
    }
}
