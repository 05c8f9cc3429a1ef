import Foundation
import DiscernEngine

/// The trainable classifier on top of the frozen backbone: logits = x·Wᵀ + b (PyTorch nn.Linear).
public struct LinearHead: Sendable, Equatable {
    public private(set) var weight: Tensor   // [classes, features]
    public private(set) var bias: Tensor     // [classes]
    public var classes: Int { weight.shape[0] }
    public var features: Int { weight.shape[1] }

    public init(weight: Tensor, bias: Tensor) throws {
        guard weight.rank == 2, weight.shape[0] > 0, weight.shape[1] > 0 else {
            throw TrainingError.shape("head weight must be [classes, features], got \(weight.shape)")
        }
        guard bias.shape == [weight.shape[0]] else {
            throw TrainingError.shape("head bias must be [\(weight.shape[0])], got \(bias.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    /// nn.Linear's default init: kaiming_uniform(a=√5) gives weights U(-1/√in, 1/√in); the bias
    /// uses the same bound. Same distribution as PyTorch, not the same numbers (different RNG).
    public init(features: Int, classes: Int, seed: UInt64) {
        precondition(features > 0 && classes > 0, "LinearHead: features and classes must be positive")
        var rng = SplitMix64(seed: seed)
        let bound = 1 / Float(features).squareRoot()
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in (rng.nextUnitFloat() * 2 - 1) * bound } }
        weight = Tensor(shape: [classes, features], data: draw(classes * features))
        bias = Tensor(shape: [classes], data: draw(classes))
    }

    /// x: [n, features] -> logits [n, classes].
    public func logits(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == features else {
            throw TrainingError.shape("features must be [n, \(features)], got \(x.shape)")
        }
        // The engine's BLAS-backed linear layer (checked against PyTorch there); no second hand-written GEMM.
        return try Ops.linear(x, LinearParams(weight: weight, bias: bias))
    }

    /// Gradients of a scalar loss w.r.t. weight and bias given dLoss/dLogits [n, classes].
    public func gradients(input x: Tensor, logitGradient g: Tensor) throws -> (weight: Tensor, bias: Tensor) {
        guard x.rank == 2, x.shape[1] == features, g.shape == [x.shape[0], classes] else {
            throw TrainingError.shape(
                "gradient shapes \(x.shape) and \(g.shape) do not fit a \(classes)×\(features) head")
        }
        let g = try Ops.linearBackward(g, input: x, LinearParams(weight: weight, bias: bias))
        return (g.weight, g.bias ?? Tensor(zeros: [classes]))
    }

    /// Applies an in-place update to the parameters (used by the optimizer).
    mutating func update(_ body: (inout [Float], inout [Float]) -> Void) {
        body(&weight.data, &bias.data)
    }
}

public enum Softmax {
    /// Row-wise softmax of [n, classes] logits, computed stably (max subtracted).
    public static func probabilities(_ logits: Tensor) -> Tensor {
        precondition(logits.rank == 2, "Softmax: logits must be [n, classes]")
        let n = logits.shape[0], c = logits.shape[1]
        var out = logits.data
        for i in 0..<n { softmaxRow(&out, i * c, c) }
        return Tensor(shape: logits.shape, data: out)
    }

    static func softmaxRow(_ v: inout [Float], _ start: Int, _ c: Int) {
        var m = -Float.infinity
        for k in 0..<c { m = max(m, v[start + k]) }
        var s: Double = 0
        for k in 0..<c {
            let e = Foundation.exp(Double(v[start + k] - m))
            v[start + k] = Float(e)
            s += e
        }
        for k in 0..<c { v[start + k] = Float(Double(v[start + k]) / s) }
    }
}
