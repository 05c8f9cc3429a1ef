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
        case let .missingFile(p, what): return "\(p): no such \(what)"
        case let .unreadable(p, why): return "\(p): cannot read (\(why))"
        case let .badModel(p, why): return "\(p): \(why)"
        case let .badData(p, why): return "\(p): \(why)"
        case let .invalid(m): return m
        case let .outputExists(p): return "\(p) already holds a Discern run; pass --resume to continue it, --force to start over, or choose another --out"
        }
    }
}
