import DiscernEngine

/// The share of an image the network "looked at": the fraction of pixels whose normalised CAM is ≥ τ.
public enum AttentionArea {
    /// One fraction per image of a [N,H,W] (or [H,W]) map in [0,1].
    public static func fractions(_ cam: Tensor, threshold tau: Float = 0.5) throws -> [Double] {
        guard cam.rank >= 2, tau.isFinite else {
            throw ExplainError.invalid(
                "attention area needs a [N,H,W] map and a finite threshold (got \(cam.shape), τ=\(tau))")
        }
        let hw = cam.shape.suffix(2).reduce(1, *)
        guard hw > 0 else { return [] }
        return stride(from: 0, to: cam.count, by: hw).map { s in
            var k = 0
            for i in s..<(s + hw) where cam.data[i] >= tau { k += 1 }
            return Double(k) / Double(hw)
        }
    }
}
