/// User-facing failures: one line naming the file and the problem.
public enum KitError: Error, CustomStringConvertible, Equatable {
    case missingFile(String, what: String)
    case unreadable(String, String)
    case badModel(String, String)
    case badData(String, String)
    case invalid(String)
    case outputExists(String)

    public var description: String {
        switch self {
        case let .missingFile(path, what): return "\(path): no such \(what)"
        case let .unreadable(path, why): return "\(path): cannot read (\(why))"
        case let .badModel(path, why): return "\(path): \(why)"
        case let .badData(path, why): return "\(path): \(why)"
        case let .invalid(message): return message
        case let .outputExists(path):
            return "\(path) already holds a Discern run; pass --resume to continue it, --force to start over, "
                + "or choose another --out"
        }
    }
}
