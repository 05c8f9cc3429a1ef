import Foundation

/// The trained linear head, logits = x·Wᵀ + b, as the scores that re-run it (ReAct, SCALE, ASH) or need its
/// geometry (ViM's origin) see it. `weight` is classes × features.
public struct LinearMap: Codable, Equatable, Sendable {
    public let weight: Matrix
    public let bias: [Double]

    public init(weight: Matrix, bias: [Double]) throws {
        guard weight.rows == bias.count, weight.rows > 0, weight.cols > 0 else {
            throw RobustnessError.shapeMismatch(
                what: "head", expected: "\(weight.rows) biases", actual: "\(bias.count)")
        }
        try weight.checkFinite("head weight")
        self.weight = weight
        self.bias = bias
    }

    public var classes: Int { weight.rows }
    public var features: Int { weight.cols }

    public func logits(_ x: Matrix) -> Matrix {
        var out = Matrix(zeros: x.rows, weight.rows)
        for r in 0..<x.rows {
            for c in 0..<weight.rows {
                var s = bias[c]
                for k in 0..<x.cols { s += x.values[r * x.cols + k] * weight.values[c * x.cols + k] }
                out.values[r * weight.rows + c] = s
            }
        }
        return out
    }
}

/// numpy.percentile's default (linear interpolation between closest ranks) of `values`, q in [0, 100].
func percentile(_ values: [Double], _ q: Double) -> Double {
    let s = values.sorted()
    guard s.count > 1 else { return s.first ?? .nan }
    let pos = q / 100 * Double(s.count - 1), lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, s.count - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
}
