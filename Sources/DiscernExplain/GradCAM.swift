import DiscernEngine

/// Grad-CAM (Selvaraju et al.): channel weight = spatial mean of the gradient.
public struct GradCAM: ChannelWeighting {
    public init() {}
    public func weights(activations: Tensor, gradients: Tensor) -> [Float] {
        CAMMath.perChannel(activations, gradients) { _, g, hw in
            var s = 0.0
            for p in 0..<hw { s += Double(g[p]) }
            return s / Double(hw)
        }
    }
}
