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
        let n = labels.count, c = logits.shape[1]
        guard n > 0 else { throw TrainingError.empty("cross-entropy of an empty batch") }
        for (i, y) in labels.enumerated() where y < 0 || y >= c {
            throw TrainingError.label(index: i, value: y, classes: c)
        }
        var p = logits.data
        var total: Double = 0
        for i in 0..<n {
            let row = i * c
            var m = -Float.infinity
            for k in 0..<c { m = max(m, p[row + k]) }
            var s: Double = 0
            for k in 0..<c { s += exp(Double(p[row + k] - m)) }
            total += log(s) + Double(m) - Double(p[row + labels[i]])   // logsumexp − logit of the label
            for k in 0..<c { p[row + k] = Float(exp(Double(p[row + k] - m)) / s) }
        }
        var g = p
        let inv = 1 / Float(n)
        for i in 0..<n {
            for k in 0..<c { g[i * c + k] *= inv }
            g[i * c + labels[i]] -= inv
        }
        return Result(loss: Float(total / Double(n)), logitGradient: Tensor(shape: logits.shape, data: g),
                      probabilities: Tensor(shape: logits.shape, data: p))
    }
}
