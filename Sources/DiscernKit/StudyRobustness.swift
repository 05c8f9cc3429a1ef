import Foundation
import DiscernEngine
import DiscernTraining
import DiscernRobustness

/// The robustness part of a run: every OOD score on validation, test, unknown and shifted sets, the calibrated
/// verdict (two questions, or the study's single score), and the metrics of issues 5 and 12.
public struct RobustnessOutcome: Sendable {
    public struct UnknownSet: Sendable {
        public var name: String
        public var count: Int
        public var scores: [String: [Double]]
        public var metrics: [String: OODMetricSet]        // test (in) vs this set (out), per score
        /// Share not accepted by the verdict, and the share it calls unknown.
        public var rejectedFraction: Double
        public var unknownFraction: Double
        public var rejectedFractionByScore: [String: Double]
        /// Test vs this set on the verdict's first score (the unknown question's, or the single score).
        public var verdictMetrics: OODMetricSet?
    }
    public var detector: OODDetector
    public var choice: Calibration.Choice                  // the unknown question's score (or the single score)
    public var unsureAURC: [String: Double]                // held-out AURC of each confidence score
    public var thresholds: [String: OODThreshold]          // per score, calibrated on held-out + shifted held-out images
    public var rule: VerdictRule
    public var calibration: CalibrationSummary
    public var validationScores: [String: [Double]]
    public var testScores: [String: [Double]]
    public var trainScores: [String: [Double]]
    public var testVerdicts: [Verdict]
    public var unknown: [UnknownSet]
    public var shifted: [ShiftReport]
    public var testSelective: SelectiveResult
    public var testShift: ShiftReport
    public var riskCoverage: [String: RiskCoverageCurve]
    public var testAcceptedByScore: [String: Double]

    /// The threshold the unknown-image panels draw: the unknown question's (or the single score's).
    public var verdict: OODThreshold { rule.thresholds[0] }

    static func matrix(_ t: Tensor) throws -> Matrix { try Matrix(t) }

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
    }

    /// The detector, per-score thresholds on held-out images and the verdict rule: all that the model file needs.
    struct Calibrated {
        var detector: OODDetector
        var thresholds: [String: OODThreshold]
        var choice: Calibration.Choice
        var unsureAURC: [String: Double]
        var rule: VerdictRule
        var validationScores: [String: [Double]]
        var summary: CalibrationSummary
    }

    /// Fits the detector on the training features plus their augmented views, then calibrates both questions on
    /// the held-out images together with their everyday shifted copies (`PhotoShift`); the unsure question also
    /// sees the thumbnail copies that the unknown question lets through. Nothing else is looked at.
    static func calibrate(train: EvaluatedSet, views: [Tensor], validation: EvaluatedSet?, copies: CalibrationCopies,
                          head: LinearHead, options: StudyOptions) throws -> Calibrated {
        let shiftedValidation = copies.shifted
        let clean = try matrix(train.features.features)
        var reference = clean.values, referenceLabels = train.features.labels
        for v in views where v.shape == train.features.features.shape {
            reference += v.data.map(Double.init); referenceLabels += train.features.labels
        }
        let referenceMatrix = try Matrix(rows: referenceLabels.count, cols: clean.cols, values: reference)
        Study.log("fitting KDEs on \(train.features.count) training images and feature statistics on \(referenceLabels.count) " +
                  "(the training images and \(views.count) augmented views of each)")
        let map = try LinearMap(weight: try matrix(head.weight), bias: head.bias.data.map(Double.init))
        let detector = try OODDetector.fit(trainLogits: matrix(train.logits), trainLabels: train.features.labels, trainFeatures: clean,
                                           reference: (referenceMatrix, referenceLabels), head: map)
        for (k, why) in detector.unavailable.sorted(by: { $0.key < $1.key }) { Study.log("score \(k) unavailable: \(why)") }
        let calib = validation ?? train
        if validation == nil { Study.log("no validation split: thresholds are calibrated on the training images (optimistic)") }
        // Held-out images and their shifted copies, pooled.
        var pooledLogits = try matrix(calib.logits), pooledFeatures = try matrix(calib.features.features)
        var labels = calib.features.labels
        if let s = shiftedValidation {
            pooledLogits = try Matrix(rows: pooledLogits.rows + s.features.count, cols: pooledLogits.cols,
                                      values: pooledLogits.values + (try matrix(s.logits)).values)
            pooledFeatures = try Matrix(rows: pooledFeatures.rows + s.features.count, cols: pooledFeatures.cols,
                                        values: pooledFeatures.values + (try matrix(s.features.features)).values)
            labels += s.features.labels
        }
        let predicted = argmaxRows(pooledLogits)
        let correct = zip(predicted, labels).map { $0 == $1 }
        let scores = try detector.allScores(logits: pooledLogits, features: pooledFeatures)
        var thresholds: [String: OODThreshold] = [:]
        for (k, v) in scores {
            thresholds[k] = try Calibration.calibrate(score: k, validationScores: v, acceptFraction: options.acceptFraction,
                                                      confidence: options.calibrationConfidence)
        }
        let cleanCount = calib.features.count
        let shiftedCorrect = correct.dropFirst(cleanCount)
        // Thumbnails: scored, but kept out of the per-score thresholds (they would stretch "a trained class" to cover
        // anything at 30 px); the unsure question below is calibrated on those the unknown question lets through.
        var thumbnailScores: [String: [Double]] = [:], thumbnailCorrect: [Bool] = []
        if let t = copies.thumbnails {
            let logits = try matrix(t.logits)
            thumbnailScores = try detector.allScores(logits: logits, features: try matrix(t.features.features))
            thumbnailCorrect = zip(argmaxRows(logits), t.features.labels).map { $0 == $1 }
        }
        func share(_ c: some Collection<Bool>) -> Double? {
            c.isEmpty ? nil : Double(c.filter { $0 }.count) / Double(c.count)
        }
        let summary = CalibrationSummary(
            heldOut: cleanCount, shiftedCopies: labels.count - cleanCount, reference: referenceLabels.count,
            heldOutAccuracy: share(correct.prefix(cleanCount)) ?? 0, shiftedAccuracy: share(shiftedCorrect),
            thumbnailCopies: thumbnailCorrect.count, thumbnailAccuracy: share(thumbnailCorrect))
        // Proxy outliers (feature columns permuted independently) stand in for unknowns when choosing the unknown score.
        let proxyFeatures = ProxyOutliers.permutedColumns(try matrix(calib.features.features), seed: options.seed &+ 1)
        let proxyTensor = Tensor(shape: calib.features.features.shape, data: proxyFeatures.values.map(Float.init))
        let proxyScores = try detector.allScores(logits: matrix(try head.logits(proxyTensor)), features: proxyFeatures)
        func names(_ q: Question) -> [String] {
            OODScoreKind.allCases.filter { $0.question == q && scores[$0.rawValue] != nil }.map(\.rawValue)
        }
        func require(_ name: String, _ option: String, _ q: Question?) throws {
            guard scores[name] != nil else {
                throw KitError.invalid("\(option) \(name): not available (choose from \(scores.keys.sorted().joined(separator: ", ")))")
            }
            if let q, (try? OODScoreKind(name: name))?.question != q {
                throw KitError.invalid("\(option) \(name): answers the other question (choose from \(names(q).joined(separator: ", ")))")
            }
        }
        let rule: VerdictRule, choice: Calibration.Choice
        var aurc: [String: Double] = [:]
        if let single = options.score {
            try require(single, "--score", nil)
            choice = try Calibration.chooseDefault(validationIn: scores, proxyOut: proxyScores)
            rule = .singleScore(options.fixedThreshold.map { OODThreshold(score: single, value: $0) } ?? thresholds[single]!)
            Study.log(String(format: "verdict: single score %@, threshold %.6g (%@)", single, rule.thresholds[0].value,
                             options.fixedThreshold == nil ? "calibrated" : "fixed"))
        } else {
            let candidates = names(.unknown).reduce(into: [String: [Double]]()) { $0[$1] = scores[$1] }
            choice = try Calibration.chooseDefault(validationIn: candidates, proxyOut: proxyScores.filter { candidates[$0.key] != nil })
            let unknownName = options.unknownScore ?? choice.score
            try require(unknownName, "--unknown-score", .unknown)
            let unknown = thresholds[unknownName]!
            // "Unsure" is calibrated on what the unknown question lets through, as the verdict asks it second:
            // held-out images, their shifted copies and their thumbnails.
            let passing = scores[unknownName]!.indices.filter { unknown.accepts(scores[unknownName]![$0]) }
            let passingThumbnails = (thumbnailScores[unknownName] ?? []).indices.filter {
                unknown.accepts(thumbnailScores[unknownName]![$0])
            }
            let passingCorrect = passing.map { correct[$0] } + passingThumbnails.map { thumbnailCorrect[$0] }
            func passingScores(_ n: String) -> [Double] {
                passing.map { scores[n]![$0] } + passingThumbnails.map { thumbnailScores[n]![$0] }
            }
            var confidence: [String: [Double]] = [:]
            for n in names(.unsure) { confidence[n] = passingScores(n) }
            let chosen = try Selective.chooseScore(correct: passingCorrect, scores: confidence)
            aurc = chosen.aurc
            let unsureName = options.unsureScore ?? chosen.score
            try require(unsureName, "--unsure-score", .unsure)
            let unsure: OODThreshold
            if let typical = options.typicalFraction {
                // Typical = an unknown score at least that of `typical` of the clean held-out photos.
                let cut = try Calibration.threshold(inDistribution: Array(scores[unknownName]!.prefix(cleanCount)),
                                                    acceptFraction: typical)
                let t = try Selective.stratifiedThresholds(correct: passingCorrect, scores: passingScores(unsureName),
                                                           typicality: passingScores(unknownName), cut: cut,
                                                           maxRisk: options.maxRisk)
                unsure = OODThreshold(score: unsureName, value: t.typical, targetRisk: options.maxRisk,
                                      atypicalBelow: t.atypical == nil ? nil : cut, atypicalValue: t.atypical)
            } else {
                let value = try Selective.threshold(correct: passingCorrect, scores: passingScores(unsureName),
                                                    maxRisk: options.maxRisk)
                unsure = OODThreshold(score: unsureName, value: value, targetRisk: options.maxRisk)
            }
            rule = .twoQuestions(unknown: unknown, unsure: unsure)
            Study.log(String(format: "unknown: %@ ≥ %.6g (accepts %.0f%% of %d held-out photos and %d shifted copies); " +
                             "unsure: %@ ≥ %.6g (at most %.1f%% errors among accepted ones, %d of %d thumbnail " +
                             "copies among them)", unknownName, unknown.value, 100 * options.acceptFraction, cleanCount,
                             summary.shiftedCopies, unsureName, unsure.value, 100 * options.maxRisk, passingThumbnails.count,
                             thumbnailCorrect.count))
            if let cut = unsure.atypicalBelow, let strict = unsure.atypicalValue {
                Study.log(String(format: "unsure on atypical images (%@ < %.6g): %@ ≥ %.6g", unknownName, cut, unsureName, strict))
            }
        }
        return Calibrated(detector: detector, thresholds: thresholds, choice: choice, unsureAURC: aurc, rule: rule,
                          validationScores: scores, summary: summary)
    }

    static func compute(_ o: StudyOutcome, views: [Tensor], copies: CalibrationCopies,
                        options: StudyOptions) throws -> RobustnessOutcome {
        let train = o.train
        let cal = try calibrate(train: train, views: views, validation: o.validation, copies: copies, head: o.head!,
                                options: options)
        let detector = cal.detector, thresholds = cal.thresholds, rule = cal.rule
        func scores(_ s: EvaluatedSet) throws -> [String: [Double]] {
            try detector.allScores(logits: matrix(s.logits), features: matrix(s.features.features))
        }
        let testScores = try scores(o.test), trainScores = try scores(train)
        let correct = o.test.table!.rows.map(\.correct)
        let testVerdicts = rule.verdicts(testScores, count: correct.count)
        let selective = try Selective.evaluate(correct: correct, accepted: testVerdicts.map(\.isAccepted))
        var rc: [String: RiskCoverageCurve] = [:], accepted: [String: Double] = [:]
        for (k, v) in testScores {
            rc[k] = try Selective.riskCoverage(correct: correct, scores: v)
            accepted[k] = 1 - OODMetrics.rejectionRate(scores: v, threshold: thresholds[k]!.value)
        }
        let testShift = try ShiftReport.make(name: o.test.name, correct: correct, scores: testScores, rule: rule, thresholds: thresholds)
        var unknown: [UnknownSet] = []
        for u in o.unknown {
            let s = try scores(u)
            var m: [String: OODMetricSet] = [:], rej: [String: Double] = [:]
            for (k, v) in s {
                m[k] = try OODMetrics.evaluate(inScores: testScores[k]!, outScores: v)
                rej[k] = OODMetrics.rejectionRate(scores: v, threshold: thresholds[k]!.value)
            }
            let verdicts = rule.verdicts(s, count: u.features.count)
            let share = { (k: VerdictKind) in Double(verdicts.filter { $0.kind == k }.count) / Double(max(verdicts.count, 1)) }
            let set = UnknownSet(name: u.name, count: u.features.count, scores: s, metrics: m, rejectedFraction: 1 - share(.accept),
                                 unknownFraction: share(.unknown), rejectedFractionByScore: rej,
                                 verdictMetrics: m[rule.thresholds[0].score])
            unknown.append(set)
            Study.log(String(format: "%@: %d images, %.1f%% rejected (%.1f%% as unknown); AUROC of %@ %.4f", u.name, u.features.count,
                             100 * set.rejectedFraction, 100 * set.unknownFraction, rule.thresholds[0].score,
                             m[rule.thresholds[0].score]?.auroc ?? .nan))
        }
        var shifted: [ShiftReport] = []
        for s in o.shifted {
            let report = try ShiftReport.make(name: s.name, correct: s.table!.rows.map(\.correct), scores: try scores(s), rule: rule,
                                              thresholds: thresholds)
            shifted.append(report)
            Study.log(report.line)
        }
        return RobustnessOutcome(detector: detector, choice: cal.choice, unsureAURC: cal.unsureAURC, thresholds: thresholds, rule: rule,
                                 calibration: cal.summary, validationScores: cal.validationScores, testScores: testScores,
                                 trainScores: trainScores, testVerdicts: testVerdicts, unknown: unknown, shifted: shifted,
                                 testSelective: selective, testShift: testShift, riskCoverage: rc, testAcceptedByScore: accepted)
    }

    /// Thresholds and the detector go into the model file.
    func store(in model: inout ModelFile) {
        Calibrated(detector: detector, thresholds: thresholds, choice: choice, unsureAURC: unsureAURC, rule: rule,
                   validationScores: validationScores, summary: calibration).store(in: &model)
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
