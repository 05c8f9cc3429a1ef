/// Every failure names the file (or key) and the problem in one line.
public enum WeightsError: Error, CustomStringConvertible, Equatable {
    case malformed(file: String, reason: String)
    case refused(file: String, reason: String)
    case missingKey(String)
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case let .malformed(f, r): return "\(f): not a valid weight file: \(r)"
        case let .refused(f, r): return "\(f): refused: \(r)"
        case let .missingKey(k): return "weights: missing key '\(k)'"
        case let .unexpectedKeys(ks):
            return "weights: \(ks.count) unexpected key(s): \(ks.prefix(5).joined(separator: ", "))\(ks.count > 5 ? ", …" : "")"
        case let .shapeMismatch(k, e, a): return "weights: '\(k)' has shape \(a), the model expects \(e)"
        }
    }
}
