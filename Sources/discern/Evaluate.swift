import ArgumentParser
import DiscernKit

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a model file on labelled image folders.")
    @Option(help: "Model file written by `discern train` or `discern run`.") var model: String
    @Option(help: "A root with training_set/ and/or test_set/, or one image folder.") var data: String
    @Option(help: "Output folder for the tables and metrics.json.") var out = "runs/evaluate"
    @Flag(help: "Overwrite an earlier evaluation in --out.") var force = false

    func run() throws {
        for r in try ModelEvaluation.run(modelPath: model, data: data, out: out, force: force) {
            var line = String(format: "%@: accuracy %.4f on %d images", r.name, r.summary.accuracy, r.summary.images)
            if let s = r.selective {
                line += String(format: "; %.1f%% accepted, accuracy on accepted %.4f, %d of %d errors rejected",
                               100 * s.coverage, s.accuracyOnAccepted, s.wrongRejected, s.wrong)
            }
            print(line)
        }
        print("tables and metrics: \(out)")
    }
}
