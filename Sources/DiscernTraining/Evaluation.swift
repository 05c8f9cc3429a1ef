import DiscernEngine

public enum Evaluation {
    /// Index of the largest value per row of [n, classes] (first one on ties, like torch.argmax on CPU).
    public static func argmax(_ logits: Tensor) -> [Int] {
        precondition(logits.rank == 2, "argmax: expected [n, classes]")
        let classes = logits.shape[1]
        return (0..<logits.shape[0]).map { row in
            var best = 0
            for k in 1..<max(classes, 1) where logits.data[row * classes + k] > logits.data[row * classes + best] {
                best = k
            }
            return best
        }
    }

    public static func accuracy(predicted: [Int], labels: [Int]) -> Double {
        precondition(
            predicted.count == labels.count, "accuracy: \(predicted.count) predictions, \(labels.count) labels")
        guard !labels.isEmpty else { return .nan }
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
}

/// counts[true][predicted].
public struct ConfusionMatrix: Sendable, Codable, Equatable {
    public let classes: [String]
    public private(set) var counts: [[Int]]

    public init(classes: [String], labels: [Int], predicted: [Int]) throws {
        guard labels.count == predicted.count else {
            throw TrainingError.shape("\(labels.count) labels but \(predicted.count) predictions")
        }
        let classCount = classes.count
        counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        self.classes = classes
        for (index, (label, guess)) in zip(labels, predicted).enumerated() {
            guard (0..<classCount).contains(label) else {
                throw TrainingError.label(index: index, value: label, classes: classCount)
            }
            guard (0..<classCount).contains(guess) else {
                throw TrainingError.label(index: index, value: guess, classes: classCount)
            }
            counts[label][guess] += 1
        }
    }

    public var total: Int { counts.joined().reduce(0, +) }
    public var accuracy: Double { Double(classes.indices.map { counts[$0][$0] }.reduce(0, +)) / Double(total) }

    /// TP / (TP + FP); NaN when the class was never predicted (sklearn warns and reports 0; NaN keeps it visible).
    public func precision(_ k: Int) -> Double {
        let column = counts.map { $0[k] }.reduce(0, +)
        return column == 0 ? .nan : Double(counts[k][k]) / Double(column)
    }

    /// TP / (TP + FN); NaN when the class has no samples.
    public func recall(_ k: Int) -> Double {
        let row = counts[k].reduce(0, +)
        return row == 0 ? .nan : Double(counts[k][k]) / Double(row)
    }

    public func f1(_ k: Int) -> Double {
        let precision = precision(k)
        let recall = recall(k)
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    public var support: [Int] { counts.map { $0.reduce(0, +) } }
}

/// The study's error analysis: a misclassification's bucket is set by the softmax probability of
/// the class it was (wrongly) given — high when the model was confidently wrong.
public enum ErrorBucket: String, Sendable, Codable, CaseIterable {
    case high, mid, low

    /// > high → .high; ≥ mid (up to high) → .mid; else .low.
    public static func of(wrongProbability p: Double, high: Double = 0.7, mid: Double = 0.6) -> ErrorBucket {
        p > high ? .high : (p >= mid ? .mid : .low)
    }
}
