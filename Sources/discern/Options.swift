import ArgumentParser
import DiscernEngine
import DiscernKit
import DiscernModels
import DiscernRobustness

/// `--unfreeze`: a number of blocks counted from the last, or every block.
enum UnfrozenBlocks: ExpressibleByArgument, Equatable, Sendable {
    case last(Int)
    case all

    init?(argument: String) {
        if argument == "all" {
            self = .all
        } else if let count = Int(argument), count >= 1 {
            self = .last(count)
        } else {
            return nil
        }
    }

    var defaultValueDescription: String {
        switch self {
        case let .last(count): return "\(count)"
        case .all: return "all"
        }
    }

    /// The block count; nil = all.
    var count: Int? {
        switch self {
        case let .last(count): return count
        case .all: return nil
        }
    }

    @Sendable static func parse(_ argument: String) throws -> UnfrozenBlocks {
        guard let value = UnfrozenBlocks(argument: argument) else {
            throw ValidationError("a number of blocks (1 or more) or 'all'")
        }
        return value
    }
}

/// The options `run` and `train` share (the study's protocol by default).
struct TrainingOptions: ParsableArguments {
    @Option(help: "Root holding training_set/ and test_set/ image folders (one sub-folder per class).")
    var data: String
    @OptionGroup var network: BackboneOptions
    @Option(help: "Epochs.")
    var epochs = 20
    @Option(help: "Batch size.")
    var batchSize = 32
    @Option(help: "Adam learning rate.")
    var lr = 0.001
    @Option(help: """
        Augmented views per training image computed once and cached; 0 = fresh augmentation every epoch \
        (the study's way, slower).
        """)
    var augmentViews = 5
    @Option(help: """
        Share of training views that also get a photo degradation (one or two of lower resolution, JPEG, blur, \
        colour), for photos from elsewhere; 0 = the study's augmentation only.
        """)
    var degrade = 0.2
    @Option(help: "Seed for shuffling, augmentation, the split and the head's initialisation.")
    var seed: UInt64 = 0
    static let defaultOut = "runs/study"
    @Option(help: "Output folder (for features: the features file).")
    var out = TrainingOptions.defaultOut
    @Flag(help: "Overwrite an earlier run in --out.")
    var force = false
    @Flag(help: "Continue an interrupted run in --out: finished feature extractions are reused, the rest is done.")
    var resume = false
    @Option(help: ArgumentHelp(stringLiteral: "Inference precision for the frozen backbone: \(Precision.choices) (default: fp32). "
                + "bf16 needs AVX512-BF16 and is faster only on some such CPUs: it is timed here, and a notice says "
                + "when it is not."),
            transform: Precision.parse)
    var precision: Precision = .fp32
    @Option(help: "Share of training images held out to calibrate the verdict.")
    var validationFraction = 0.1
    @Option(help: """
        Share of held-out photos of the trained classes (shifted copies included) the unknown question must accept.
        """)
    var accept = 0.99
    @Option(help: """
        Confidence that the unknown threshold accepts at least --accept of new photos like those (0 = plain quantile).
        """)
    var confidence = 0.9
    @Option(help: """
        The unsure threshold allows at most this share of errors among accepted held-out photos \
        (shifted copies included).
        """)
    var maxRisk = 0.01
    @Option(help: """
        Shifted copies (JPEG, low resolution, blur, colour, crop) of each held-out image used for calibration; \
        0 = none.
        """)
    var shiftCopies = 3
    @Option(help: """
        Thumbnail copies (24-40 px) of each held-out image, for the unsure threshold of low-resolution photos; \
        0 = none.
        """)
    var thumbnailCopies = 3
    @Option(help: """
        Close-up copies (a square of 20-30% of the shorter side, enlarged) of each held-out image: proxy unknowns \
        for choosing the unknown score; 0 = none.
        """)
    var detailCopies = 1
    @Option(help: """
        Photos whose shorter side is below this many pixels get their own unsure threshold, calibrated on the \
        thumbnail copies (default: half the backbone's input size; 0 = one threshold for every size).
        """)
    var lowResolutionBelow: Int?
    @Option(help: """
        The unsure risk is held apart on images less typical than this share of clean held-out photos \
        (by the unknown score); 0 = one pooled threshold.
        """)
    var typical = 0.0
    @Option(help: """
        Score for the unknown question (default: chosen on held-out data): \(OODScoreKind.choices(for: .unknown)).
        """, transform: OODScoreKind.parse)
    var unknownScore: OODScoreKind?
    @Option(help: """
        Score for the unsure question (default: the lowest held-out risk-coverage area): \
        \(OODScoreKind.choices(for: .unsure)).
        """, transform: OODScoreKind.parse)
    var unsureScore: OODScoreKind?
    @Option(help: "Fixed threshold for --score (the study used 0.04 with --score density).")
    var threshold: Double?
    @Option(help: """
        Use the study's single-score rule with this score instead of the two questions: \(OODScoreKind.choices).
        """, transform: OODScoreKind.parse)
    var score: OODScoreKind?
    @Option(help: "Save a checkpoint whenever an epoch's running accuracy passes this.")
    var checkpointAccuracy = 0.95
    @Flag(help: """
        Decode JPEGs at least twice the input size at a reduced scale (faster on large photos; not bit-exact with PIL).
        """)
    var fastDecode = false
    @Flag(help: "After the head, train the last --unfreeze blocks too (fastai's fine_tune; BatchNorm stats frozen).")
    var fineTune = false
    @Option(help: "Blocks --fine-tune unfreezes, counted from the last, or 'all' (default: 6).",
            transform: UnfrozenBlocks.parse)
    var unfreeze: UnfrozenBlocks = .last(6)
    @Option(help: "One-cycle epochs of --fine-tune.")
    var fineTuneEpochs = 4
    @Option(help: "Peak learning rate of --fine-tune (the head's; the earliest unfrozen block gets 1/100 of it).")
    var fineTuneLr = 0.001

    func validate() throws {
        guard fineTuneEpochs >= 1 else { throw ValidationError("--fine-tune-epochs must be at least 1") }
        guard fineTuneLr > 0 else { throw ValidationError("--fine-tune-lr must be positive") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        guard augmentViews >= 0 else { throw ValidationError("--augment-views must be 0 or more") }
        guard degrade >= 0 && degrade < 1 else { throw ValidationError("--degrade must be at least 0 and below 1") }
        guard validationFraction >= 0 && validationFraction < 0.9 else {
            throw ValidationError("--validation-fraction must be in [0, 0.9)")
        }
        guard accept > 0 && accept <= 1 else { throw ValidationError("--accept must be in (0, 1]") }
        guard confidence >= 0 && confidence < 1 else { throw ValidationError("--confidence must be in [0, 1)") }
        guard maxRisk >= 0 && maxRisk < 1 else { throw ValidationError("--max-risk must be in [0, 1)") }
        guard shiftCopies >= 0 else { throw ValidationError("--shift-copies must be 0 or more") }
        guard typical >= 0 && typical < 1 else { throw ValidationError("--typical must be in [0, 1)") }
        guard thumbnailCopies >= 0 else { throw ValidationError("--thumbnail-copies must be 0 or more") }
        guard detailCopies >= 0 else { throw ValidationError("--detail-copies must be 0 or more") }
        guard (lowResolutionBelow ?? 0) >= 0 else { throw ValidationError("--low-resolution-below must be 0 or more") }
        guard threshold == nil || score != nil else {
            throw ValidationError("--threshold needs --score (the single-score rule)")
        }
        guard score == nil || (unknownScore == nil && unsureScore == nil) else {
            throw ValidationError(
                "--score (one score) and --unknown-score/--unsure-score (two questions) exclude each other")
        }
        try Self.check(unknownScore, answers: .unknown, option: "--unknown-score")
        try Self.check(unsureScore, answers: .unsure, option: "--unsure-score")
    }

    /// A score given for one question must answer it.
    static func check(_ score: OODScoreKind?, answers question: Question, option: String) throws {
        guard let score, score.question != question else { return }
        throw ValidationError("\(option) \(score.rawValue) answers the other question: use one of "
                              + OODScoreKind.choices(for: question))
    }
}

extension StudyOptions {
    /// The study's options as `run`, `train` and `features` were told them; weights are looked for where the
    /// environment says.
    init(_ training: TrainingOptions) {
        self.init(data: training.data)
        backbone = training.network.backbone(fineTune: training.fineTune)
        weights = training.network.weights
        imageSize = training.network.imageSize
        weightsSearch = ProcessEnvironment.weightsSearch
        epochs = training.epochs
        batchSize = training.batchSize
        learningRate = training.lr
        augmentViews = training.augmentViews
        degradation = training.degrade
        seed = training.seed
        out = training.out
        force = training.force
        resume = training.resume
        precision = training.precision
        validationFraction = training.validationFraction
        acceptFraction = training.accept
        calibrationConfidence = training.confidence > 0 ? training.confidence : nil
        fixedThreshold = training.threshold
        score = training.score
        unknownScore = training.unknownScore
        unsureScore = training.unsureScore
        checkpointAccuracy = training.checkpointAccuracy
        fastDecode = training.fastDecode
        maxRisk = training.maxRisk
        shiftCopies = training.shiftCopies
        thumbnailCopies = training.thumbnailCopies
        detailCopies = training.detailCopies
        lowResolutionBelow = training.lowResolutionBelow
        typicalFraction = training.typical > 0 ? training.typical : nil
        fineTune = training.fineTune
        unfreezeBlocks = training.unfreeze.count
        fineTuneEpochs = training.fineTuneEpochs
        fineTuneLearningRate = training.fineTuneLr
    }
}
