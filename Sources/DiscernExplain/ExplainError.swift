/// Errors of the explanation library, each a one-line description.
public enum ExplainError: Error, CustomStringConvertible, Equatable {
    case badShape(String, [Int])
    case invalid(String)
    case classOutOfRange(Int, classes: Int)
    case unknownClass(String, available: [String])
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badShape(what, s): return "\(what): expected a 4-D [N,C,H,W] tensor, got shape \(s)"
        case let .invalid(m): return m
        case let .classOutOfRange(i, n): return "class index \(i) is out of range (the head has \(n) classes)"
        case let .unknownClass(name, avail):
            return "unknown class '\(name)' (classes: \(avail.joined(separator: ", ")))"
        case let .write(p, r): return "\(p): cannot write (\(r))"
        }
    }
}
