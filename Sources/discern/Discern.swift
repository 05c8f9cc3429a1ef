import ArgumentParser
import DiscernKit

@main
struct Discern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discern",
        abstract: "Train an image classifier that knows when it does not know, and shows why it decided.",
        subcommands: [Run.self, Train.self, Evaluate.self, Predict.self, Merge.self, Features.self, Explain.self,
                      Classify.self, Bench.self, Serve.self])
}
