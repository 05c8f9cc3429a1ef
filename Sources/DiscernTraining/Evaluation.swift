import DiscernEngine

public enum Evaluation {
    /// Index of the largest value per row of [n, classes] (first one on ties, like torch.argmax on CPU).
    public static func argmax(_ logits: Tensor) -> [Int] {
        precondition(logits.rank == 2, "argmax: expected [n, classes]")
        let c = logits.shape[1]
        return (0..<logits.shape[0]).map { i in
            var best = 0
            for k in 1..<max(c, 1) where logits.data[i * c + k] > logits.data[i * c + best] { best = k }
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
        let c = classes.count
        counts = Array(repeating: Array(repeating: 0, count: c), count: c)
        self.classes = classes
        for (i, (t, p)) in zip(labels, predicted).enumerated() {
            guard (0..<c).contains(t) else { throw TrainingError.label(index: i, value: t, classes: c) }
            guard (0..<c).contains(p) else { throw TrainingError.label(index: i, value: p, classes: c) }
            counts[t][p] += 1
        }
    }

    public var total: Int { counts.joined().reduce(0, +) }
    public var accuracy: Double { Double(classes.indices.map { counts[$0][$0] }.reduce(0, +)) / Double(total) }

    /// TP / (TP + FP); NaN when the class was never predicted (sklearn warns and reports 0; NaN keeps it visible).
    public func precision(_ k: Int) -> Double {
        let col = counts.map { $0[k] }.reduce(0, +)
        return col == 0 ? .nan : Double(counts[k][k]) / Double(col)
    }

    /// TP / (TP + FN); NaN when the class has no samples.
    public func recall(_ k: Int) -> Double {
        let row = counts[k].reduce(0, +)
        return row == 0 ? .nan : Double(counts[k][k]) / Double(row)
    }

    public func f1(_ k: Int) -> Double {
        let p = precision(k), r = recall(k)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
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
