import Foundation
import DiscernEngine

public enum Softmax {
    /// Row-wise softmax of [n, classes] logits, computed stably (max subtracted).
    public static func probabilities(_ logits: Tensor) -> Tensor {
        precondition(logits.rank == 2, "Softmax: logits must be [n, classes]")
        let rows = logits.shape[0]
        let classes = logits.shape[1]
        var out = logits.data
        for row in 0..<rows { softmaxRow(&out, row * classes, classes) }
        return Tensor(shape: logits.shape, data: out)
    }

    /// p_k = exp(v_k − max v) / Σ_j exp(v_j − max v) over `count` values from `start`, in place.
    static func softmaxRow(_ values: inout [Float], _ start: Int, _ count: Int) {
        var largest = -Float.infinity
        for k in 0..<count { largest = max(largest, values[start + k]) }
        var sum: Double = 0
        for k in 0..<count {
            let exponential = Foundation.exp(Double(values[start + k] - largest))
            values[start + k] = Float(exponential)
            sum += exponential
        }
        for k in 0..<count { values[start + k] = Float(Double(values[start + k]) / sum) }
    }
}
