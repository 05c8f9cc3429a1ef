import ArgumentParser
import DiscernExplain
import DiscernKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: """
        The whole study: train the head, evaluate, analyse errors, score unknowns, explain, write report.html and \
        metrics.json.
        """)
    @OptionGroup var training: TrainingOptions
    @Option(help: "A folder of images of classes the model never saw (repeatable; evaluation only).")
    var unknown: [String] = []
    @Option(help: """
        A folder with the class sub-folders, photos of the trained classes taken elsewhere (repeatable; evaluation \
        only).
        """)
    var shifted: [String] = []
    @Option(help: "CAM method for the explanations: \(CAMMethod.choices) (default: gradcam).",
            transform: CAMMethod.parse)
    var camMethod: CAMMethod = .gradcam
    @Option(help: "Layer for the CAMs (module path; default: the last block of the last stage).")
    var camLayer: String?
    @Option(help: "Attention area = fraction of the image where the normalised CAM is at least this.")
    var attentionThreshold = 0.5
    @Option(help: """
        Score-CAM's masked forwards per test image: the N most varying channels (Faster Score-CAM); 0 = every channel.
        """)
    var scoreCamChannels = 128
    @Flag(help: "Skip the Grad-CAM section.")
    var noExplain = false

    func validate() throws {
        guard scoreCamChannels >= 0 else { throw ValidationError("--score-cam-channels must be 0 or more") }
    }

    func run() throws {
        var options = StudyOptions(training)
        options.unknown = unknown
        options.shifted = shifted
        options.camMethod = camMethod
        options.camLayer = camLayer
        options.attentionThreshold = attentionThreshold
        options.explain = !noExplain
        options.scoreCAMChannels = scoreCamChannels > 0 ? scoreCamChannels : nil
        let outcome = try Study(options: options, progress: TerminalProgress()).run()
        print("report: \(options.out)/report.html")
        print(String(format: "test accuracy %.4f; model %@", outcome.test.table.accuracy, outcome.modelPath))
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the head (and calibrate the rejection threshold) and write a self-contained model file.")
    @OptionGroup var training: TrainingOptions
    @Option(parsing: .upToNextOption, help: """
        Train from these files of discern features (every shard's, made with the same options) instead of extracting.
        """)
    var features: [String] = []

    func run() throws {
        var options = StudyOptions(training)
        options.explain = false
        options.featureFiles = features
        let path = try Study(options: options, progress: TerminalProgress()).train()
        print("model: \(path)")
    }
}

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            Extract the backbone features train needs (augmented views included) for one shard; train --features \
            joins them.
            """,
        discussion: """
            Give the same training options as to train (--data, --seed, --augment-views, --shift-copies, \
            --batch-size...). --out is the shard's features file. --shard I/N takes the batches b with b % N == I of \
            every extraction; by default it is JOB_COMPLETION_INDEX/JOB_COMPLETIONS of a Kubernetes Indexed Job.
            """)
    @OptionGroup var training: TrainingOptions
    @Option(help: "Extract shard I of N (I/N); default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS when set.")
    var shard: String?

    func validate() throws {
        guard training.out != TrainingOptions.defaultOut else {
            throw ValidationError("give --out FILE for the features")
        }
    }

    func run() throws {
        let shard = try ProcessEnvironment.shard(self.shard)
        let study = Study(options: StudyOptions(training), progress: TerminalProgress())
        let rows = try study.extractFeatures(shard: shard, to: training.out)
        print("features: \(training.out) (shard \(shard), \(rows) rows)")
    }
}
