/// Typed errors of the robustness library; `description` is one readable line.
public enum RobustnessError: Error, CustomStringConvertible, Equatable {
    case empty(what: String)
    case shapeMismatch(what: String, expected: String, actual: String)
    case notFinite(what: String)
    case singularCovariance(what: String)
    case invalidArgument(String)
    case unknownScore(String)
    case missingFeatures(score: OODScoreKind)
    case malformedModel(String)

    public var description: String {
        switch self {
        case .empty(let what): return "\(what) is empty"
        case .shapeMismatch(let what, let expected, let actual): return "\(what): expected \(expected), got \(actual)"
        case .notFinite(let what): return "\(what) contains NaN or infinite values"
        case .singularCovariance(let what):
            return "\(what): covariance matrix is not positive definite (degenerate data)"
        case .invalidArgument(let message): return message
        case .unknownScore(let name):
            let known = OODScoreKind.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown OOD score '\(name)' (known: \(known))"
        case .missingFeatures(let score):
            return "score '\(score.rawValue)' needs penultimate features, none were given"
        case .malformedModel(let message): return "malformed OOD model: \(message)"
        }
    }
}
