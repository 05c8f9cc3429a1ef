import Foundation
import DiscernEngine
import DiscernTraining
import DiscernRobustness

/// The robustness part of a run: every OOD score on validation, test and unknown sets, the
/// calibrated thresholds, the chosen default score, and the metrics of issue 5.
public struct RobustnessOutcome: Sendable {
    public struct UnknownSet: Sendable {
        public var name: String
        public var count: Int
        public var scores: [String: [Double]]
        public var metrics: [String: OODMetricSet]        // test (in) vs this set (out), per score
        public var rejectedFraction: Double                // at the verdict's threshold
        public var rejectedFractionByScore: [String: Double]
    }
    public var detector: OODDetector
    public var choice: Calibration.Choice
    public var thresholds: [String: OODThreshold]          // calibrated on validation, per score
    public var verdict: OODThreshold                       // the one in force (score + value)
    public var validationScores: [String: [Double]]
    public var testScores: [String: [Double]]
    public var trainScores: [String: [Double]]
    public var unknown: [UnknownSet]
    public var testSelective: SelectiveResult
    public var riskCoverage: [String: RiskCoverageCurve]
    public var testAcceptedByScore: [String: Double]

    static func matrix(_ t: Tensor) throws -> Matrix { try Matrix(t) }

    /// The detector, per-score thresholds on held-out images and the default score: all that the model file needs.
    struct Calibrated {
        var detector: OODDetector
        var thresholds: [String: OODThreshold]
        var choice: Calibration.Choice
        var verdict: OODThreshold
        var validationScores: [String: [Double]]
    }

    static func calibrate(train: EvaluatedSet, validation: EvaluatedSet?, head: LinearHead, options: StudyOptions) throws -> Calibrated {
        Study.log("fitting KDEs and OOD statistics on \(train.features.count) training images")
        let detector = try OODDetector.fit(trainLogits: matrix(train.logits), trainLabels: train.features.labels,
                                           trainFeatures: matrix(train.features.features))
        for (k, why) in detector.unavailable.sorted(by: { $0.key < $1.key }) { Study.log("score \(k) unavailable: \(why)") }
        // Calibrate on held-out in-distribution images; without a validation split, fall back to the training images.
        let calib = validation ?? train
        if validation == nil { Study.log("no validation split: thresholds are calibrated on the training images (optimistic)") }
        let valScores = try detector.allScores(logits: matrix(calib.logits), features: matrix(calib.features.features))
        var thresholds: [String: OODThreshold] = [:]
        for (k, v) in valScores {
            thresholds[k] = try Calibration.calibrate(score: k, validationScores: v, acceptFraction: options.acceptFraction,
                                                      confidence: options.calibrationConfidence)
        }
        // Proxy outliers (feature columns permuted independently) stand in for unknowns when choosing the default score.
        let proxyFeatures = ProxyOutliers.permutedColumns(try matrix(calib.features.features), seed: options.seed &+ 1)
        let proxyTensor = Tensor(shape: calib.features.features.shape, data: proxyFeatures.values.map(Float.init))
        let proxyScores = try detector.allScores(logits: matrix(try head.logits(proxyTensor)), features: proxyFeatures)
        let choice = try Calibration.chooseDefault(validationIn: valScores, proxyOut: proxyScores)
        let used = options.score ?? choice.score
        guard let usedCal = thresholds[used] else {
            throw KitError.invalid("--score \(used): not available (choose from \(thresholds.keys.sorted().joined(separator: ", ")))")
        }
        let verdict = options.fixedThreshold.map { OODThreshold(score: used, value: $0, targetAcceptance: nil) } ?? usedCal
        Study.log(String(format: "verdict score: %@ (threshold %.6g, %@)", used, verdict.value, options.fixedThreshold == nil
            ? "calibrated on \(calib.features.count) held-out images to accept \(Int(options.acceptFraction * 100))% of in-distribution images" +
              (options.calibrationConfidence.map { " with \(Int($0 * 100))% confidence" } ?? "")
            : "fixed"))
        return Calibrated(detector: detector, thresholds: thresholds, choice: choice, verdict: verdict, validationScores: valScores)
    }

    static func compute(_ o: StudyOutcome, options: StudyOptions) throws -> RobustnessOutcome {
        let train = o.train
        let cal = try calibrate(train: train, validation: o.validation, head: o.head!, options: options)
        let detector = cal.detector, thresholds = cal.thresholds, verdict = cal.verdict, used = verdict.score
        let choice = cal.choice, valScores = cal.validationScores
        func scores(_ s: EvaluatedSet) throws -> [String: [Double]] {
            try detector.allScores(logits: matrix(s.logits), features: matrix(s.features.features))
        }
        let testScores = try scores(o.test), trainScores = try scores(train)
        let correct = o.test.table!.rows.map(\.correct)
        let selective = try Selective.evaluate(correct: correct, scores: testScores[used]!, threshold: verdict.value)
        var rc: [String: RiskCoverageCurve] = [:], accepted: [String: Double] = [:]
        for (k, v) in testScores {
            rc[k] = try Selective.riskCoverage(correct: correct, scores: v)
            let t = k == used ? verdict.value : thresholds[k]!.value
            accepted[k] = 1 - OODMetrics.rejectionRate(scores: v, threshold: t)
        }
        var unknown: [UnknownSet] = []
        for u in o.unknown {
            let s = try scores(u)
            var m: [String: OODMetricSet] = [:], rej: [String: Double] = [:]
            for (k, v) in s {
                m[k] = try OODMetrics.evaluate(inScores: testScores[k]!, outScores: v)
                rej[k] = OODMetrics.rejectionRate(scores: v, threshold: k == used ? verdict.value : thresholds[k]!.value)
            }
            unknown.append(UnknownSet(name: u.name, count: u.features.count, scores: s, metrics: m,
                                      rejectedFraction: rej[used] ?? 0, rejectedFractionByScore: rej))
            Study.log(String(format: "%@: %d images, %.1f%% rejected by %@; AUROC %.4f, FPR95 %.4f", u.name, u.features.count,
                             100 * (rej[used] ?? 0), used, m[used]?.auroc ?? .nan, m[used]?.fpr95 ?? .nan))
        }
        return RobustnessOutcome(detector: detector, choice: choice, thresholds: thresholds, verdict: verdict,
                                 validationScores: valScores, testScores: testScores, trainScores: trainScores, unknown: unknown,
                                 testSelective: selective, riskCoverage: rc, testAcceptedByScore: accepted)
    }

    /// Thresholds and the detector go into the model file.
    func store(in model: inout ModelFile) {
        Calibrated(detector: detector, thresholds: thresholds, choice: choice, verdict: verdict, validationScores: validationScores)
            .store(in: &model)
    }
}

extension RobustnessOutcome.Calibrated {
    func store(in model: inout ModelFile) {
        model.detector = detector
        model.metadata.threshold = verdict
        model.metadata.thresholds = thresholds.mapValues(\.value)
        model.metadata.scoreChoice = choice.criterion
    }
}
