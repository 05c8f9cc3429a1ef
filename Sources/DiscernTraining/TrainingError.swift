import Foundation

/// Errors from training and evaluation; `description` is one readable line.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case shape(String)
    case label(index: Int, value: Int, classes: Int)
    case empty(String)

    public var description: String {
        switch self {
        case let .shape(message): return message
        case let .label(index, value, classes): return "label \(value) of sample \(index) is outside 0..<\(classes)"
        case let .empty(message): return message
        }
    }
}

