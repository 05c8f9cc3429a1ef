import ArgumentParser
import DiscernKit

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: """
        Evaluate a model file on labelled image folders, photos from elsewhere (--shifted) and other things \
        (--unknown).
        """)
    @OptionGroup var model: ModelOption
    @Option(help: "A root with training_set/ and/or test_set/, or one image folder.")
    var data: String
    @Option(help: """
        A folder of images of none of the trained classes (repeatable): AUROC/FPR95 per score, verdict shares.
        """)
    var unknown: [String] = []
    @Option(help: """
        A folder with the class sub-folders of the training data, photos taken elsewhere (repeatable): accuracy, \
        share of correct images accepted, share of errors flagged.
        """)
    var shifted: [String] = []
    @Option(help: "Output folder for the tables, metrics.json and verdict.svg (a chart of every set).")
    var out = "runs/evaluate"
    @Flag(help: "Overwrite an earlier evaluation in --out.")
    var force = false
    @Option(help: "Keep each folder's features here, reused when a model with the same backbone is evaluated again.")
    var cache: String?

    func run() throws {
        let result = try ModelEvaluation.run(modelPath: model.path, data: data, unknown: unknown, shifted: shifted,
                                             out: out, force: force, cache: cache, progress: TerminalProgress())
        for set in result.sets {
            print(set.shift?.line
                  ?? String(format: "%@: accuracy %.4f on %d images", set.name, set.summary.accuracy,
                            set.summary.images))
        }
        for report in result.shifted { print(report.line) }
        for unknownSet in result.unknown { print(unknownSet.line) }
        print("tables, metrics and verdict.svg: \(out)")
    }
}
