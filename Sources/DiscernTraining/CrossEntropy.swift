import Foundation
import DiscernEngine

/// nn.CrossEntropyLoss (reduction "mean", no weights, no label smoothing) on raw logits.
public enum CrossEntropy {
    public struct Result: Sendable {
        public let loss: Float
        public let logitGradient: Tensor   // dLoss/dLogits = (softmax − onehot) / n
        public let probabilities: Tensor
    }

    public static func evaluate(logits: Tensor, labels: [Int]) throws -> Result {
        guard logits.rank == 2, logits.shape[0] == labels.count else {
            throw TrainingError.shape("logits \(logits.shape) do not match \(labels.count) labels")
        }
        let count = labels.count
        let classes = logits.shape[1]
        guard count > 0 else { throw TrainingError.empty("cross-entropy of an empty batch") }
        for (index, label) in labels.enumerated() where label < 0 || label >= classes {
            throw TrainingError.label(index: index, value: label, classes: classes)
        }
        var probabilities = logits.data
        var total: Double = 0
        for i in 0..<count {
            let row = i * classes
            var largest = -Float.infinity
            for k in 0..<classes { largest = max(largest, probabilities[row + k]) }
            var sum: Double = 0
            for k in 0..<classes { sum += exp(Double(probabilities[row + k] - largest)) }
            // logsumexp − logit of the label
            total += log(sum) + Double(largest) - Double(probabilities[row + labels[i]])
            for k in 0..<classes { probabilities[row + k] = Float(exp(Double(probabilities[row + k] - largest)) / sum) }
        }
        // d(mean loss)/d(logits) = (softmax − one-hot) / count.
        var gradient = probabilities
        let share = 1 / Float(count)
        for i in 0..<count {
            for k in 0..<classes { gradient[i * classes + k] *= share }
            gradient[i * classes + labels[i]] -= share
        }
        return Result(loss: Float(total / Double(count)), logitGradient: Tensor(shape: logits.shape, data: gradient),
                      probabilities: Tensor(shape: logits.shape, data: probabilities))
    }
}
