/// Every failure names the file (or key) and the problem in one line.
public enum WeightsError: Error, CustomStringConvertible, Equatable {
    case malformed(file: String, reason: String)
    case refused(file: String, reason: String)
    case missingKey(String)
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case let .malformed(file, reason): return "\(file): not a valid weight file: \(Self.printable(reason))"
        case let .refused(file, reason): return "\(file): refused: \(Self.printable(reason))"
        case let .missingKey(key): return "weights: missing key '\(Self.printable(key))'"
        case let .unexpectedKeys(keys):
            let shown = keys.prefix(5).map { Self.printable($0) }.joined(separator: ", ")
            return "weights: \(keys.count) unexpected key(s): \(shown)\(keys.count > 5 ? ", …" : "")"
        case let .shapeMismatch(key, expected, actual):
            return "weights: '\(Self.printable(key))' has shape \(actual), the model expects \(expected)"
        }
    }

    /// Reasons quote names taken from the file (globals, keys, zip entries): control characters are
    /// replaced so a hostile file cannot inject terminal escapes or extra lines into the message.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)) ? "?" : scalar
        }))
    }
}
