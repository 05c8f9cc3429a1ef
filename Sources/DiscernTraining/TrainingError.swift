import Foundation

/// Errors from training and evaluation; `description` is one readable line.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case shape(String)
    case label(index: Int, value: Int, classes: Int)
    case empty(String)

    public var description: String {
        switch self {
        case let .shape(m): return m
        case let .label(i, v, c): return "label \(v) of sample \(i) is outside 0..<\(c)"
        case let .empty(m): return m
        }
    }
}

