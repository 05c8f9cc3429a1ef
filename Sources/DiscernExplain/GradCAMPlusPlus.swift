import DiscernEngine

/// Grad-CAM++ (Chattopadhyay et al.), with pytorch-grad-cam's closed form:
/// α = g² / (2g² + ΣA · g³ + 1e-6) where g ≠ 0 (else 0); weight = Σ relu(g) · α.
public struct GradCAMPlusPlus: ChannelWeighting {
    public init() {}
    public func weights(activations: Tensor, gradients: Tensor) -> [Float] {
        CAMMath.perChannel(activations, gradients) { a, g, hw in
            var sumA: Float = 0
            for p in 0..<hw { sumA += a[p] }
            var w = 0.0
            for p in 0..<hw where g[p] > 0 {   // relu(g) zeroes the rest, and g == 0 gives α = 0
                let g2 = g[p] * g[p]
                let alpha = g2 / (2 * g2 + sumA * g2 * g[p] + 1e-6)
                w += Double(g[p] * alpha)
            }
            return w
        }
    }
}
