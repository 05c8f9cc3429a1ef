import ArgumentParser
import DiscernEngine
import DiscernExplain
import DiscernModels
import DiscernRobustness
import DiscernVision

/// An option with a fixed set of values. A wrong value fails while the command line is parsed, before any work,
/// with one line naming every choice (swift-argument-parser's own message lists six or more values one per line).
protocol ArgumentChoice: ExpressibleByArgument, CaseIterable, RawRepresentable, Sendable where RawValue == String {}

extension ArgumentChoice {
    /// The values for a help text or an error: "a, b, c".
    static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The `transform` of an `@Option`: the value, or an error listing the choices.
    @Sendable static func parse(_ argument: String) throws -> Self {
        guard let value = Self(argument: argument) else { throw ValidationError("use one of \(choices)") }
        return value
    }
}

extension BackboneKind: ArgumentChoice {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension CAMMethod: ArgumentChoice {
    /// The CLI spelling and the aliases `CAMMethod(name:)` accepts ("grad-cam", "gradcampp").
    public init?(argument: String) { self.init(name: argument) }
}

extension OODScoreKind: ArgumentChoice {}
extension Precision: ArgumentChoice {}
extension ActivationLayout: ArgumentChoice {}
extension ConvolutionAlgorithm: ArgumentChoice {}

/// `discern bench --vision --mode`: which image pipeline to time.
enum VisionBenchMode: String, ArgumentChoice {
    case eval, train, both

    var modes: [VisionBenchmark.Mode] {
        switch self {
        case .eval: return [.eval]
        case .train: return [.train]
        case .both: return VisionBenchmark.Mode.allCases
        }
    }
}

extension OODScoreKind {
    /// The scores that answer `question`, for help texts and errors.
    static func choices(for question: Question) -> String {
        allCases.filter { $0.question == question }.map(\.rawValue).joined(separator: ", ")
    }
}
