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
        case .empty(let w): return "\(w) is empty"
        case .shapeMismatch(let w, let e, let a): return "\(w): expected \(e), got \(a)"
        case .notFinite(let w): return "\(w) contains NaN or infinite values"
        case .singularCovariance(let w): return "\(w): covariance matrix is not positive definite (degenerate data)"
        case .invalidArgument(let m): return m
        case .unknownScore(let n):
            return "unknown OOD score '\(n)' (known: \(OODScoreKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .missingFeatures(let score):
            return "score '\(score.rawValue)' needs penultimate features, none were given"
        case .malformedModel(let m): return "malformed OOD model: \(m)"
        }
    }
}
