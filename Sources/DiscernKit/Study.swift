import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining
import DiscernRobustness
import DiscernWeights

/// One image set through the backbone and the head: features and logits.
public struct EvaluatedSet: Sendable {
    public let name: String
    public let features: FeatureSet
    public let logits: Tensor
    public var probabilities: Tensor { Softmax.probabilities(logits) }
}

/// An evaluated set of photos of the trained classes, with its per-image table.
public struct LabelledSet: Sendable {
    public let images: EvaluatedSet
    public let table: PredictionTable

    public var name: String { images.name }
    public var features: FeatureSet { images.features }
    public var logits: Tensor { images.logits }

    init(_ images: EvaluatedSet, classes: [String]) throws {
        self.images = images
        table = try PredictionTable(classes: classes, paths: images.features.paths, labels: images.features.labels,
                                    logits: images.logits)
    }
}

/// What a run produced, for the report and metrics.json; every stage's result, none left to fill in.
public struct StudyOutcome: Sendable {
    public let options: StudyOptions
    public let classes: [String]
    public let weightsFile: String
    public let history: TrainingHistory
    public let train: LabelledSet
    public let validation: LabelledSet?
    public let test: LabelledSet
    public let unknown: [EvaluatedSet]
    /// `--shifted` folders: labelled photos of the trained classes from elsewhere (evaluation only).
    public let shifted: [LabelledSet]
    public let robustness: RobustnessOutcome
    /// Nil when the run was told not to explain.
    public let attention: AttentionOutcome?
    public let skipped: [SkippedImage]
    public let trainSeconds: Double
    public let evalSeconds: Double
    public let robustnessSeconds: Double
    public let explainSeconds: Double
    public let modelPath: String
    public let head: LinearParams
    public let checkpoints: [String]
}

/// `discern run`: the study end to end — features, head training, evaluation, robustness, explanations, report.
/// Each stage returns a value the next one takes. Each step logs one line; long steps report to `progress`.
public final class Study: Sendable {
    public let options: StudyOptions
    public let progress: any ProgressReporter

    public init(options: StudyOptions, progress: any ProgressReporter = SilentProgress()) {
        self.options = options
        self.progress = progress
    }

    public static func log(_ line: String) { FileHandle.standardError.write(Data("discern: \(line)\n".utf8)) }

    public func run() throws -> StudyOutcome {
        let out = try OutputFolder(options.out, force: options.force, resume: options.resume)
        let data = try StudyData.load(options)
        for skipped in data.skipped { Study.log(skipped.description) }
        Study.log("\(data.classes.count) classes (\(data.classes.joined(separator: ", "))): \(data.train.count) "
                  + "training, \(data.validation.count) validation, \(data.test.count) test images"
                  + data.unknown.map { ", \($0.samples.count) unknown (\($0.name))" }.joined())
        let trained = try trainHead(data, out: out)
        let network = trained.network
        let evaluation = try evaluate(data, trained: trained)
        Study.log(String(format: "accuracy: train %.4f, test %.4f", evaluation.train.table.accuracy,
                         evaluation.test.table.accuracy))

        let robustnessStart = Date()
        let robustness = try RobustnessOutcome.compute(evaluation, views: trained.referenceViews, head: network.head,
                                                       options: options)
        let robustnessSeconds = Date().timeIntervalSince(robustnessStart)
        let modelURL = out.url("model.safetensors")
        var model = network.recipe.modelFile(head: network.head, classes: data.classes)
        robustness.store(in: &model)
        model.metadata.metrics = ["accuracy.train": evaluation.train.table.accuracy,
                                  "accuracy.test": evaluation.test.table.accuracy]
        try model.save(to: modelURL)
        Study.log("model: \(modelURL.path)")

        let attention: AttentionOutcome?
        let explainSeconds: Double
        if options.explain {
            let explainStart = Date()
            attention = try AttentionOutcome.compute(test: evaluation.test, classes: data.classes,
                                                     forwardSeconds: evaluation.secondsPerImage,
                                                     backbone: network.extractor.backbone, head: network.head,
                                                     options: options, out: out, progress: progress)
            explainSeconds = Date().timeIntervalSince(explainStart)
        } else {
            attention = nil
            explainSeconds = 0
        }
        let outcome = StudyOutcome(
            options: options, classes: data.classes, weightsFile: trained.weightsFile, history: network.history,
            train: evaluation.train, validation: evaluation.validation, test: evaluation.test,
            unknown: evaluation.unknown, shifted: evaluation.shifted, robustness: robustness, attention: attention,
            skipped: data.skipped + evaluation.skipped, trainSeconds: trained.seconds,
            evalSeconds: evaluation.seconds, robustnessSeconds: robustnessSeconds, explainSeconds: explainSeconds,
            modelPath: modelURL.path, head: network.head, checkpoints: trained.checkpoints)
        try StudyWriter.write(outcome, to: out)
        return outcome
    }
}

extension Study {
    /// `discern train`: the head, the OOD statistics and calibrated thresholds, saved as one model file.
    public func train() throws -> String {
        let out = try OutputFolder(options.out, force: options.force, resume: options.resume)
        let data = try StudyData.load(options, needTest: false)
        for skipped in data.skipped { Study.log(skipped.description) }
        let trained = try trainHead(data, out: out)
        let network = trained.network
        let train = try trained.evaluate(trained.trainFeatures, name: "train")
        let validation = data.validation.isEmpty
            ? nil
            : try trained.evaluate(data.validation, name: "validation")
        let calibrated = try RobustnessOutcome.calibrate(train: train, views: trained.referenceViews,
                                                         validation: validation,
                                                         copies: try calibrationCopies(data, trained: trained),
                                                         head: network.head, options: options)
        var model = network.recipe.modelFile(head: network.head, classes: data.classes)
        calibrated.store(in: &model)
        let url = out.url("model.safetensors")
        try model.save(to: url)
        try AtomicFile.write(Data(network.history.csv().utf8), to: out.url("history.csv"))
        return url.path
    }
}
