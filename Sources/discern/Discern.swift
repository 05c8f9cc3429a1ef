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

    /// The process-wide settings the environment gives, applied once before any subcommand runs. The memory
    /// setting of fine-tuning is made here, after parsing but before the command starts any thread: glibc binds
    /// a thread to its malloc arena at the thread's first allocation.
    static func main() async {
        InferenceOptions.coreBudget = ProcessEnvironment.coreBudget
        // Parsed twice (here and in main(nil), which reports errors and runs the command): parsing has no effects.
        if let command = try? parseAsRoot(), let training = command as? FineTuningCommand, training.fineTunes {
            ProcessMemory.keepFreedMemoryForReuse()
        }
        await main(nil)
    }
}
