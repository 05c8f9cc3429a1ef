/// A linear layer, y = x·Wᵀ + b (PyTorch nn.Linear): a graph's `.linear` node and the classifier head that the
/// study trains on frozen features are both this one type. Every layer here has a bias (ResNet's `fc`,
/// EfficientNet's `_fc`/`classifier`, the trained head), so the bias is not optional.
public struct LinearParams: Sendable, Equatable {
    public var weight: Tensor   // [out, in] (PyTorch layout)
    public var bias: Tensor     // [out]
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public init(weight: Tensor, bias: Tensor) throws {
        guard weight.rank == 2, weight.shape[0] > 0, weight.shape[1] > 0 else {
            throw EngineError.invalid("linear weight must be [out, in], got \(weight.shape)")
        }
        guard bias.shape == [weight.shape[0]] else {
            throw EngineError.invalid("linear bias must be [\(weight.shape[0])], got \(bias.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    /// nn.Linear's default init: kaiming_uniform(a=√5) gives weights U(-1/√in, 1/√in); the bias
    /// uses the same bound. Same distribution as PyTorch, not the same numbers (different RNG).
    public init(inFeatures: Int, outFeatures: Int, seed: UInt64) {
        precondition(inFeatures > 0 && outFeatures > 0, "LinearParams: feature counts must be positive")
        var rng = SplitMix64(seed: seed)
        let bound = 1 / Float(inFeatures).squareRoot()
        func draw(_ count: Int) -> [Float] { (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * bound } }
        weight = Tensor(shape: [outFeatures, inFeatures], data: draw(outFeatures * inFeatures))
        bias = Tensor(shape: [outFeatures], data: draw(outFeatures))
    }

    /// x: [n, in] -> logits [n, out], on the BLAS-backed `Ops.linear`.
    public func logits(_ x: Tensor) throws -> Tensor { try Ops.linear(x, self) }

    /// Gradients of a scalar loss w.r.t. weight and bias given dLoss/dLogits [n, out].
    public func gradients(input x: Tensor, logitGradient: Tensor) throws -> (weight: Tensor, bias: Tensor) {
        try Ops.linearBackwardParameters(logitGradient, input: x, self)
    }
}
