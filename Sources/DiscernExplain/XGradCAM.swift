import DiscernEngine

/// XGrad-CAM (Fu et al.): weight = Σ (dA ⊙ A) / (Σ A + 1e-7).
public struct XGradCAM: ChannelWeighting {
    public init() {}
    public func weights(activations: Tensor, gradients: Tensor) -> [Float] {
        CAMMath.perChannel(activations, gradients) { a, g, hw in
            var sumA = 0.0, sumGA = 0.0
            for p in 0..<hw {
                sumA += Double(a[p])
                sumGA += Double(g[p]) * Double(a[p])
            }
            return sumGA / (sumA + 1e-7)
        }
    }
}
