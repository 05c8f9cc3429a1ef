import DiscernEngine

/// LayerCAM (Jiang et al.): Σ_c relu(dA) ⊙ A, position by position.
public struct LayerCAM: CAMFormula {
    public init() {}
    public func rawCAM(activations: Tensor, gradients: Tensor?) throws -> Tensor {
        let g = try CAMMath.checkPair(activations, gradients)
        return CAMMath.elementwiseSum(activations, g) { a, d in d > 0 ? a * d : 0 }
    }
}
