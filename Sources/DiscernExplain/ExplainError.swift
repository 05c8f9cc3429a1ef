/// Errors of the explanation library, each a one-line description.
public enum ExplainError: Error, CustomStringConvertible, Equatable {
    case badShape(String, [Int])
    case invalid(String)
    case classOutOfRange(Int, classes: Int)
    case unknownClass(String, available: [String])
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badShape(what, shape): return "\(what): expected a 4-D [N,C,H,W] tensor, got shape \(shape)"
        case let .invalid(message): return message
        case let .classOutOfRange(index, count):
            return "class index \(index) is out of range (the head has \(count) classes)"
        case let .unknownClass(name, available):
            return "unknown class '\(name)' (classes: \(available.joined(separator: ", ")))"
        case let .write(path, reason): return "\(path): cannot write (\(reason))"
        }
    }
}
