import DiscernKit
import Foundation

/// The one place the program reads its environment; the libraries take what it finds as parameters.
enum ProcessEnvironment {
    static var variables: [String: String] { ProcessInfo.processInfo.environment }

    /// Where ImageNet weights are looked for: $DISCERN_WEIGHTS, the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME),
    /// both under $HOME by default.
    static var weightsSearch: WeightsSearch { WeightsSearch(environment: variables) }

    /// $OMP_NUM_THREADS: the cores inference may use (nil when unset or not a number: every core).
    static var coreBudget: Int? { variables["OMP_NUM_THREADS"].flatMap { Int($0) } }

    /// `--shard I/N` when given, else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX/JOB_COMPLETIONS.
    static func shard(_ option: String?) throws -> Shard { try Shard.resolve(option, environment: variables) }

    /// Whether standard error is a terminal that draws progress bars ($TERM not "dumb").
    static var drawsProgress: Bool { isatty(STDERR_FILENO) != 0 && variables["TERM"] != "dumb" }
}
