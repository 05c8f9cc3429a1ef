import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining
import DiscernRobustness
import DiscernWeights

/// One evaluated image set: features, logits and the per-image table.
public struct EvaluatedSet: Sendable {
    public var name: String
    public var features: FeatureSet
    public var logits: Tensor
    public var table: PredictionTable?          // nil for unknown sets (no labels)
    public var probabilities: Tensor { Softmax.probabilities(logits) }
}

/// What a run produced, for the report and metrics.json.
public struct StudyOutcome: Sendable {
    public var options: StudyOptions
    public var classes: [String]
    public var weightsFile: String
    public var history: TrainingHistory
    public var train: EvaluatedSet, validation: EvaluatedSet?, test: EvaluatedSet
    public var unknown: [EvaluatedSet]
    /// `--shifted` folders: labelled photos of the trained classes from elsewhere (evaluation only).
    public var shifted: [EvaluatedSet] = []
    public var robustness: RobustnessOutcome?
    public var attention: AttentionOutcome?
    public var skipped: [SkippedImage]
    public var trainSeconds: Double, evalSeconds: Double, robustnessSeconds = 0.0, explainSeconds = 0.0
    public var modelPath: String
    public var head: LinearHead?
    public var checkpoints: [String]
}

/// `discern run`: the study end to end — features, head training, evaluation, robustness,
/// explanations, report. Each step logs one line; long steps draw progress bars.
public final class Study {
    public let options: StudyOptions
    public init(options: StudyOptions) { self.options = options }

    public static func log(_ s: String) { FileHandle.standardError.write(Data("discern: \(s)\n".utf8)) }

    public func run() throws -> StudyOutcome {
        let out = try OutputFolder(options.out, force: options.force, resume: options.resume)
        let data = try StudyData.load(options)
        for s in data.skipped { Study.log(s.description) }
        Study.log("\(data.classes.count) classes (\(data.classes.joined(separator: ", "))): \(data.train.count) training, " +
                  "\(data.validation.count) validation, \(data.test.count) test images" +
                  data.unknown.map { ", \($0.samples.count) unknown (\($0.name))" }.joined())
        var (trained, train) = try trainHead(data, out: out)
        let t1 = Date()
        let head = trained.head
        func evaluate(_ name: String, _ samples: [ImageFolder.Sample], labelled: Bool) throws -> EvaluatedSet {
            let f = try trained.extractor.extract(samples, augment: false, title: "features (\(name))", cache: trained.cache,
                                                  name: "eval-\(name)", weights: trained.weightsFile)
            let logits = try head.logits(f.features)
            let table = labelled ? try PredictionTable(classes: data.classes, paths: f.paths, labels: f.labels, logits: logits) : nil
            return EvaluatedSet(name: name, features: f, logits: logits, table: table)
        }
        train.logits = try head.logits(train.features.features)
        train.table = try PredictionTable(classes: data.classes, paths: train.features.paths, labels: train.features.labels, logits: train.logits)
        let validation = data.validation.isEmpty ? nil : try evaluate("validation", data.validation, labelled: true)
        let test = try evaluate("test", data.test, labelled: true)
        let unknown = try data.unknown.map { try evaluate($0.name, $0.samples, labelled: false) }
        let shifted = try data.shifted.map { try evaluate("shifted-" + $0.name, $0.samples, labelled: true) }
        let copies = try calibrationCopies(data, trained: trained)
        let evalSeconds = Date().timeIntervalSince(t1)
        Study.log(String(format: "accuracy: train %.4f, test %.4f", train.table!.accuracy, test.table!.accuracy))

        var outcome = StudyOutcome(options: options, classes: data.classes, weightsFile: trained.weightsFile, history: trained.history,
                                   train: train, validation: validation, test: test, unknown: unknown, robustness: nil, attention: nil,
                                   skipped: data.skipped + ([train, test] + unknown + shifted + (validation.map { [$0] } ?? [])).flatMap(\.features.skipped),
                                   trainSeconds: trained.seconds, evalSeconds: evalSeconds,
                                   modelPath: out.url("model.safetensors").path, head: head, checkpoints: trained.checkpoints)
        outcome.shifted = shifted
        let t2 = Date()
        let robustness = try RobustnessOutcome.compute(outcome, views: trained.views, copies: copies, options: options)
        outcome.robustness = robustness
        outcome.robustnessSeconds = Date().timeIntervalSince(t2)
        var model = trained.modelFile(head: head, classes: data.classes)
        robustness.store(in: &model)
        model.metadata.metrics = ["accuracy.train": train.table!.accuracy, "accuracy.test": test.table!.accuracy]
        try model.save(to: out.url("model.safetensors"))
        Study.log("model: \(out.url("model.safetensors").path)")

        if options.explain {
            let t3 = Date()
            outcome.attention = try AttentionOutcome.compute(outcome, backbone: trained.extractor.backbone, head: head, options: options, out: out)
            outcome.explainSeconds = Date().timeIntervalSince(t3)
        }
        try StudyWriter.write(outcome, to: out)
        return outcome
    }
}

/// Seeded copies of the held-out images that the calibration sees besides the images themselves.
struct CalibrationCopies {
    /// `PhotoShift.Kind.everyday` copies: photos of the trained classes as they arrive from elsewhere (both questions).
    var shifted: EvaluatedSet?
    /// Thumbnail copies: hard low-resolution cases (the unsure question only).
    var thumbnails: EvaluatedSet?
}

extension Study {
    /// `shiftCopies` everyday-shift copies and `thumbnailCopies` thumbnail copies of every held-out image, labelled.
    /// Nil sets without a validation split or with 0 copies.
    func calibrationCopies(_ data: StudyData, trained: TrainedHead) throws -> CalibrationCopies {
        func copies(_ view: FeatureView, _ count: Int, _ what: String, _ name: String) throws -> EvaluatedSet? {
            guard !data.validation.isEmpty, count > 0 else { return nil }
            var sets: [FeatureSet] = []
            let seed = options.seed ^ Study.shiftSeed, weights = trained.weightsFile
            for k in 0..<count {
                sets.append(try trained.extractor.extract(data.validation, transform: view, view: k, seed: seed,
                                                          title: "\(what) held-out copies \(k + 1)/\(count)",
                                                          cache: trained.cache, name: "\(name)\(k)", weights: weights))
            }
            let f = FeatureSet(features: Tensor.concatBatch(sets.map(\.features)), labels: sets.flatMap(\.labels),
                               paths: sets.flatMap(\.paths), skipped: [])
            return EvaluatedSet(name: "\(what) validation", features: f, logits: try trained.head.logits(f.features),
                                table: nil)
        }
        return CalibrationCopies(shifted: try copies(.shifted, options.shiftCopies, "shifted", "shifted-validation"),
                                 thumbnails: try copies(.thumbnail, options.thumbnailCopies, "thumbnail",
                                                        "thumbnail-validation"))
    }
}

extension Study {
    /// `discern train`: the head, the OOD statistics and calibrated thresholds, saved as one model file.
    public func train() throws -> String {
        let out = try OutputFolder(options.out, force: options.force, resume: options.resume)
        let data = try StudyData.load(options, needTest: false)
        for s in data.skipped { Study.log(s.description) }
        var (trained, train) = try trainHead(data, out: out)
        let head = trained.head
        train.logits = try head.logits(train.features.features)
        var validation: EvaluatedSet?
        if !data.validation.isEmpty {
            let f = try trained.extractor.extract(data.validation, augment: false, title: "features (validation)", cache: trained.cache,
                                                  name: "eval-validation", weights: trained.weightsFile)
            validation = EvaluatedSet(name: "validation", features: f, logits: try head.logits(f.features), table: nil)
        }
        let cal = try RobustnessOutcome.calibrate(train: train, views: trained.views, validation: validation,
                                                  copies: try calibrationCopies(data, trained: trained), head: head,
                                                  options: options)
        var model = trained.modelFile(head: head, classes: data.classes)
        cal.store(in: &model)
        let url = out.url("model.safetensors")
        try model.save(to: url)
        try AtomicFile.write(Data(trained.history.csv().utf8), to: out.url("history.csv"))
        return url.path
    }
}
