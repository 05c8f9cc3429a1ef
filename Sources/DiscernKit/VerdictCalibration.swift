import Foundation
import DiscernEngine
import DiscernTraining
import DiscernRobustness

/// Calibrating the verdict of a run: the detector fitted on the training features, per-score thresholds on the
/// held-out photos, the choice of the unknown score, and the two questions' thresholds (or the study's single score).
extension RobustnessOutcome {
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

    /// The images the verdict is calibrated on: held-out photos and their shifted copies pooled (the first
    /// `cleanCount` rows are the photos themselves), every score on them, and the thumbnail copies scored beside
    /// them but never pooled (they would stretch "a trained class" to cover anything at 30 px).
    struct CalibrationSet {
        var logits: Matrix
        var features: Matrix
        var labels: [Int]
        var correct: [Bool]
        /// The shorter side of each pooled row's decoded photo (a shifted copy keeps its photo's size).
        var shortSides: [Int]
        var cleanCount: Int
        var scores: [OODScoreKind: [Double]]
        var thumbnailScores: [OODScoreKind: [Double]]
        var thumbnailCorrect: [Bool]
    }

    /// Fits the detector on the training features plus their augmented views, then calibrates both questions on
    /// the held-out images together with their everyday shifted copies (`PhotoShift`); the unsure question also
    /// sees the thumbnail copies that the unknown question lets through. Nothing else is looked at.
    static func calibrate(train: EvaluatedSet, views: [Tensor], validation: EvaluatedSet?, copies: CalibrationCopies,
                          head: LinearParams, options: StudyOptions) throws -> Calibrated {
        let reference = try referenceFeatures(train: train, views: views)
        Study.log("fitting KDEs on \(train.features.count) training images and feature statistics on "
                  + "\(reference.labels.count) (the training images and \(views.count) augmented views of each)")
        let map = try LinearMap(weight: try matrix(head.weight), bias: head.bias.data.map(Double.init))
        let detector = try OODDetector.fit(trainLogits: matrix(train.logits), trainLabels: train.features.labels,
                                           trainFeatures: try matrix(train.features.features),
                                           reference: reference, head: map)
        for (score, why) in detector.unavailable.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            Study.log("score \(score.rawValue) unavailable: \(why)")
        }
        let heldOut = validation ?? train
        if validation == nil {
            Study.log("no validation split: thresholds are calibrated on the training images (optimistic)")
        }
        let set = try calibrationSet(heldOut: heldOut, copies: copies, detector: detector)
        var thresholds: [OODScoreKind: OODThreshold] = [:]
        for (score, values) in set.scores {
            thresholds[score] = try Calibration.calibrate(score: score, validationScores: values,
                                                          acceptFraction: options.acceptFraction,
                                                          confidence: options.calibrationConfidence)
        }
        func share(_ flags: some Collection<Bool>) -> Double? {
            flags.isEmpty ? nil : Double(flags.filter { $0 }.count) / Double(flags.count)
        }
        var summary = CalibrationSummary(
            heldOut: set.cleanCount, shiftedCopies: set.labels.count - set.cleanCount,
            reference: reference.labels.count,
            heldOutAccuracy: share(set.correct.prefix(set.cleanCount)) ?? 0,
            shiftedAccuracy: share(set.correct.dropFirst(set.cleanCount)),
            thumbnailCopies: set.thumbnailCorrect.count, thumbnailAccuracy: share(set.thumbnailCorrect),
            lowResolutionBelow: 0, lowResolutionImages: 0)
        let proxies = try UnknownScoreProxies(detector: detector, head: head, heldOut: heldOut, copies: copies,
                                              set: set, reference: reference, seed: options.seed &+ 1)
        let pooled = CalibrationScores(scores: set.scores, thresholds: thresholds)

        let rule: VerdictRule
        let choice: Calibration.Choice
        let aurc: [OODScoreKind: Double]
        if let single = options.score {
            let calibrated = try pooled.threshold(single, option: "--score", question: nil)
            choice = try Calibration.chooseDefault(comparisons: proxies.comparisons(set.scores),
                                                   acceptFraction: options.acceptFraction)
            rule = .singleScore(options.fixedThreshold.map { OODThreshold(score: single, value: $0) }
                                ?? calibrated)
            aurc = [:]
            Study.log(String(format: "verdict: single score %@, threshold %.6g (%@)", single.rawValue,
                             rule.thresholds[0].value, options.fixedThreshold == nil ? "calibrated" : "fixed"))
        } else {
            let candidates = set.scores.filter { $0.key.question == .unknown }
            choice = try Calibration.chooseDefault(comparisons: proxies.comparisons(candidates),
                                                   acceptFraction: options.acceptFraction)
            // The criterion names the kinds that ranked and screened in this run (a run without held-out photos
            // has no photo proxies, and then the permuted columns rank).
            Study.log("unknown score by \(choice.criterion): " + choiceSummary(choice))
            (rule, aurc) = try twoQuestionRule(set, pooled: pooled, unknownScore: options.unknownScore ?? choice.score,
                                               options: options, summary: &summary)
        }
        return Calibrated(detector: detector, thresholds: thresholds, choice: choice, unsureAURC: aurc, rule: rule,
                          validationScores: set.scores, summary: summary)
    }

    /// The feature reference of the scores fitted on features (Mahalanobis, kNN, ViM, ReAct): the training images,
    /// then each augmented view of the same shape, with their labels.
    static func referenceFeatures(train: EvaluatedSet, views: [Tensor]) throws -> (features: Matrix, labels: [Int]) {
        let clean = try matrix(train.features.features)
        var values = clean.values
        var labels = train.features.labels
        for view in views where view.shape == train.features.features.shape {
            values += view.data.map(Double.init)
            labels += train.features.labels
        }
        return (try Matrix(rows: labels.count, cols: clean.cols, values: values), labels)
    }

    /// The held-out images and their shifted copies pooled, and the thumbnail copies, all scored by `detector`.
    static func calibrationSet(heldOut: EvaluatedSet, copies: CalibrationCopies,
                               detector: OODDetector) throws -> CalibrationSet {
        var logits = try matrix(heldOut.logits)
        var features = try matrix(heldOut.features.features)
        var labels = heldOut.features.labels
        if let shifted = copies.shifted {
            logits = try Matrix(rows: logits.rows + shifted.features.count, cols: logits.cols,
                                values: logits.values + (try matrix(shifted.logits)).values)
            features = try Matrix(rows: features.rows + shifted.features.count, cols: features.cols,
                                  values: features.values + (try matrix(shifted.features.features)).values)
            labels += shifted.features.labels
        }
        var thumbnailScores: [OODScoreKind: [Double]] = [:]
        var thumbnailCorrect: [Bool] = []
        if let thumbnails = copies.thumbnails {
            let thumbnailLogits = try matrix(thumbnails.logits)
            thumbnailScores = try detector.allScores(logits: thumbnailLogits,
                                                     features: try matrix(thumbnails.features.features))
            thumbnailCorrect = zip(argmaxRows(thumbnailLogits), thumbnails.features.labels).map { $0 == $1 }
        }
        return CalibrationSet(
            logits: logits, features: features, labels: labels,
            correct: zip(argmaxRows(logits), labels).map { $0 == $1 },
            shortSides: heldOut.features.shortSides + (copies.shifted?.features.shortSides ?? []),
            cleanCount: heldOut.features.count, scores: try detector.allScores(logits: logits, features: features),
            thumbnailScores: thumbnailScores, thumbnailCorrect: thumbnailCorrect)
    }

    /// The two questions: "unknown" is `unknownScore`'s calibrated threshold; "unsure" is calibrated on what that
    /// lets through (held-out photos, their shifted copies and their thumbnails), with thresholds of their own for
    /// low-resolution photos and, with `--typical`, for atypical ones. Records the low-resolution stratum in
    /// `summary`.
    static func twoQuestionRule(_ set: CalibrationSet, pooled: CalibrationScores, unknownScore: OODScoreKind,
                                options: StudyOptions, summary: inout CalibrationSummary)
        throws -> (rule: VerdictRule, aurc: [OODScoreKind: Double])
    {
        let lowResolutionBelow = options.lowResolutionCut
        let unknown = try pooled.threshold(unknownScore, option: "--unknown-score", question: .unknown)
        let unknownValues = try pooled.values(unknownScore)
        let thumbnailUnknown = set.thumbnailScores[unknownScore] ?? []
        let passing = unknownValues.indices.filter { unknown.accepts(unknownValues[$0]) }
        let passingThumbnails = thumbnailUnknown.indices.filter { unknown.accepts(thumbnailUnknown[$0]) }
        let passingCorrect = passing.map { set.correct[$0] } + passingThumbnails.map { set.thumbnailCorrect[$0] }
        let passingLowResolution =
            passing.map { lowResolutionBelow > 0 && set.shortSides[$0] < lowResolutionBelow }
            + passingThumbnails.map { _ in lowResolutionBelow > 0 }
        func passingScores(_ score: OODScoreKind) throws -> [Double] {
            guard let values = set.scores[score] else {
                throw KitError.invalid("score \(score.rawValue) was not computed")
            }
            let thumbnailValues = set.thumbnailScores[score] ?? []
            guard passingThumbnails.isEmpty || thumbnailValues.count == set.thumbnailCorrect.count else {
                throw KitError.invalid("score \(score.rawValue) was not computed on the thumbnail copies")
            }
            return passing.map { values[$0] } + passingThumbnails.map { thumbnailValues[$0] }
        }
        var confidence: [OODScoreKind: [Double]] = [:]
        for score in set.scores.keys where score.question == .unsure {
            confidence[score] = try passingScores(score)
        }
        let chosen = try Selective.chooseScore(correct: passingCorrect, scores: confidence)
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
            let cut = try Calibration.threshold(inDistribution: Array(unknownValues.prefix(set.cleanCount)),
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
        Study.log(String(format: "unknown: %@ ≥ %.6g (accepts %.0f%% of %d held-out photos and %d shifted "
                         + "copies); "
                         + "unsure: %@ ≥ %.6g (at most %.1f%% errors among %d accepted ones)",
                         unknownScore.rawValue, unknown.value, 100 * options.acceptFraction, set.cleanCount,
                         summary.shiftedCopies, unsureScore.rawValue, unsure.value, 100 * options.maxRisk,
                         normal.count))
        if let below = unsure.lowResolutionBelow, let strict = unsure.lowResolutionValue {
            Study.log(String(format: "unsure on photos under %d px (the shorter side): %@ ≥ %.6g (at most %.1f%% "
                             + "errors among %d such images: %d of %d thumbnail copies, the rest held-out "
                             + "photos)", below, unsureScore.rawValue, strict, 100 * options.maxRisk,
                             summary.lowResolutionImages, passingThumbnails.count, set.thumbnailCorrect.count))
        }
        if let cut = unsure.atypicalBelow, let strict = unsure.atypicalValue {
            Study.log(String(format: "unsure on atypical images (%@ < %.6g): %@ ≥ %.6g", unknownScore.rawValue,
                             cut, unsureScore.rawValue, strict))
        }
        return (.twoQuestions(unknown: unknown, unsure: unsure), chosen.aurc)
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
