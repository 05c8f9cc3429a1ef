import ArgumentParser
import DiscernEngine
import DiscernKit

@main
struct Discern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discern",
        abstract: "Train an image classifier that knows when it does not know, and shows why it decided.",
        subcommands: [Run.self, Train.self, Evaluate.self, Predict.self, Merge.self, Features.self, Explain.self,
                      Classify.self, Bench.self, Serve.self])

    /// The process-wide settings the environment gives, applied once before any subcommand runs.
    static func main() async {
        InferenceOptions.coreBudget = ProcessEnvironment.coreBudget
        await main(nil)
    }
}
