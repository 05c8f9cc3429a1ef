import DiscernEngine

/// HiResCAM (Draelos & Carin): Σ_c dA ⊙ A, position by position (no spatial averaging).
public struct HiResCAM: CAMFormula {
    public init() {}
    public func rawCAM(activations: Tensor, gradients: Tensor?) throws -> Tensor {
        let g = try CAMMath.checkPair(activations, gradients)
        return CAMMath.elementwiseSum(activations, g) { a, d in a * d }
    }
}
