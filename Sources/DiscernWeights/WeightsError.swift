/// Every failure names the file (or key) and the problem in one line.
public enum WeightsError: Error, CustomStringConvertible, Equatable {
    case malformed(file: String, reason: String)
    case refused(file: String, reason: String)
    case missingKey(String)
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case let .malformed(f, r): return "\(f): not a valid weight file: \(Self.printable(r))"
        case let .refused(f, r): return "\(f): refused: \(Self.printable(r))"
        case let .missingKey(k): return "weights: missing key '\(Self.printable(k))'"
        case let .unexpectedKeys(ks):
            let shown = ks.prefix(5).map { Self.printable($0) }.joined(separator: ", ")
            return "weights: \(ks.count) unexpected key(s): \(shown)\(ks.count > 5 ? ", …" : "")"
        case let .shapeMismatch(k, e, a):
            return "weights: '\(Self.printable(k))' has shape \(a), the model expects \(e)"
        }
    }

    /// Reasons quote names taken from the file (globals, keys, zip entries): control characters are
    /// replaced so a hostile file cannot inject terminal escapes or extra lines into the message.
    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { c in
            (c.value < 0x20 || (0x7F...0x9F).contains(c.value)) ? "?" : c
        }))
    }
}
