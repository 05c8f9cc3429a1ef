import ArgumentParser
import DiscernKit
import DiscernModels
import DiscernEngine

extension BackboneKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension Precision: ExpressibleByArgument {}
extension ActivationLayout: ExpressibleByArgument {}
extension ConvolutionAlgorithm: ExpressibleByArgument {}

/// The options `run` and `train` share (the study's protocol by default).
struct TrainingOptions: ParsableArguments {
    @Option(help: "Root holding training_set/ and test_set/ image folders (one sub-folder per class).")
    var data: String
    @Option(help: "Backbone: \(BackboneKind.allValueStrings.joined(separator: ", ")).")
    var backbone: BackboneKind = .efficientnetLite0
    @Option(help: "ImageNet weights (.pth or .safetensors, torchvision/timm names); default: ~/.cache/discern/weights.")
    var weights: String?
    @Option(help: "Epochs.") var epochs = 20
    @Option(help: "Batch size.") var batchSize = 32
    @Option(help: "Adam learning rate.") var lr = 0.001
    @Option(help: "Augmented views per training image computed once and cached; 0 = fresh augmentation every epoch (the study's way, slower).")
    var augmentViews = 5
    @Option(help: "Seed for shuffling, augmentation, the split and the head's initialisation.") var seed: UInt64 = 0
    static let defaultOut = "runs/study"
    @Option(help: "Output folder (for features: the features file).") var out = TrainingOptions.defaultOut
    @Flag(help: "Overwrite an earlier run in --out.") var force = false
    @Flag(help: "Continue an interrupted run in --out: finished feature extractions are reused, the rest is done.") var resume = false
    @Option(help: "Inference precision for the frozen backbone: fp32 or bf16.") var precision: Precision = .fp32
    @Option(help: "Share of training images held out to calibrate the verdict.") var validationFraction = 0.1
    @Option(help: "Share of held-out photos of the trained classes (shifted copies included) the unknown question must accept.")
    var accept = 0.99
    @Option(help: "Confidence that the unknown threshold accepts at least --accept of new photos like those (0 = plain quantile).")
    var confidence = 0.9
    @Option(help: "The unsure threshold allows at most this share of errors among accepted held-out photos (shifted copies included).")
    var maxRisk = 0.01
    @Option(help: "Shifted copies (JPEG, low resolution, blur, colour, crop) of each held-out image used for calibration; 0 = none.")
    var shiftCopies = 3
    @Option(help: "Thumbnail copies (24-40 px) of each held-out image, only for the unsure calibration; 0 = none.")
    var thumbnailCopies = 0
    @Option(help: "The unsure risk is held apart on images less typical than this share of clean held-out photos (by the unknown score); 0 = one pooled threshold.")
    var typical = 0.0
    @Option(help: "Score for the unknown question (default: chosen on held-out data): knn, mahalanobis, vim, react, scale, ash-s.")
    var unknownScore: String?
    @Option(help: "Score for the unsure question (default: the lowest held-out risk-coverage area): msp, maxlogit, energy, gen, density, density-seed, class-density, joint-density.")
    var unsureScore: String?
    @Option(help: "Fixed threshold for --score (the study used 0.04 with --score density).") var threshold: Double?
    @Option(help: "Use the study's single-score rule with this score instead of the two questions (any score name).")
    var score: String?
    @Option(help: "Save a checkpoint whenever an epoch's running accuracy passes this.") var checkpointAccuracy = 0.95
    @Flag(help: "Decode JPEGs at least twice the input size at a reduced scale (faster on large photos; not bit-exact with PIL).")
    var fastDecode = false
    @Flag(help: "After the head, train the last --unfreeze blocks too (fastai's fine_tune; BatchNorm stats frozen).")
    var fineTune = false
    @Option(help: "Blocks --fine-tune unfreezes, counted from the last, or 'all'.") var unfreeze = "3"
    @Option(help: "One-cycle epochs of --fine-tune.") var fineTuneEpochs = 2
    @Option(help: "Peak learning rate of --fine-tune (the head's; the earliest unfrozen block gets 1/100 of it).")
    var fineTuneLr = 0.001

    /// --unfreeze as a block count; nil = all.
    var unfreezeBlocks: Int? { unfreeze == "all" ? nil : Int(unfreeze) }

    func validate() throws {
        guard unfreeze == "all" || (Int(unfreeze) ?? 0) >= 1 else {
            throw ValidationError("--unfreeze must be a number of blocks (1 or more) or 'all', got '\(unfreeze)'")
        }
        guard fineTuneEpochs >= 1 else { throw ValidationError("--fine-tune-epochs must be at least 1") }
        guard fineTuneLr > 0 else { throw ValidationError("--fine-tune-lr must be positive") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        guard augmentViews >= 0 else { throw ValidationError("--augment-views must be 0 or more") }
        guard validationFraction >= 0 && validationFraction < 0.9 else { throw ValidationError("--validation-fraction must be in [0, 0.9)") }
        guard accept > 0 && accept <= 1 else { throw ValidationError("--accept must be in (0, 1]") }
        guard confidence >= 0 && confidence < 1 else { throw ValidationError("--confidence must be in [0, 1)") }
        guard maxRisk >= 0 && maxRisk < 1 else { throw ValidationError("--max-risk must be in [0, 1)") }
        guard shiftCopies >= 0 else { throw ValidationError("--shift-copies must be 0 or more") }
        guard typical >= 0 && typical < 1 else { throw ValidationError("--typical must be in [0, 1)") }
        guard thumbnailCopies >= 0 else { throw ValidationError("--thumbnail-copies must be 0 or more") }
        guard threshold == nil || score != nil else { throw ValidationError("--threshold needs --score (the single-score rule)") }
        guard score == nil || (unknownScore == nil && unsureScore == nil) else {
            throw ValidationError("--score (one score) and --unknown-score/--unsure-score (two questions) exclude each other")
        }
    }

    func studyOptions() -> StudyOptions {
        var o = StudyOptions(data: data)
        o.backbone = backbone; o.weights = weights; o.epochs = epochs; o.batchSize = batchSize; o.learningRate = lr
        o.augmentViews = augmentViews; o.seed = seed; o.out = out; o.force = force; o.precision = precision
        o.validationFraction = validationFraction; o.acceptFraction = accept; o.calibrationConfidence = confidence > 0 ? confidence : nil; o.fixedThreshold = threshold; o.score = score
        o.checkpointAccuracy = checkpointAccuracy; o.fastDecode = fastDecode; o.resume = resume
        o.maxRisk = maxRisk; o.shiftCopies = shiftCopies
        o.typicalFraction = typical > 0 ? typical : nil
        o.thumbnailCopies = thumbnailCopies; o.unknownScore = unknownScore; o.unsureScore = unsureScore
        o.fineTune = fineTune; o.unfreezeBlocks = unfreezeBlocks
        o.fineTuneEpochs = fineTuneEpochs; o.fineTuneLearningRate = fineTuneLr
        return o
    }
}
