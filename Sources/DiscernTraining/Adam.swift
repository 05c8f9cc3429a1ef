import Foundation
import DiscernEngine

/// torch.optim.Adam (amsgrad off): L2 weight decay added to the gradient, moments updated,
/// bias corrections 1 − βᵗ computed in double like PyTorch's Python scalars, and
/// p −= lr/bc1 · m / (√v / √bc2 + eps).
public struct Adam: Sendable {
    public var learningRate: Double
    public var beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    public private(set) var step = 0
    private var m: [[Float]] = [], v: [[Float]] = []

    public init(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
                eps: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.eps = eps; self.weightDecay = weightDecay
    }

    /// One step over parameter arrays in a fixed order; gradients match them in count.
    /// `learningRates` (one per array, like PyTorch parameter groups) replaces `learningRate`.
    public mutating func update(_ params: inout [[Float]], gradients: [[Float]], learningRates: [Double]? = nil) {
        precondition(params.count == gradients.count, "Adam: \(params.count) parameters, \(gradients.count) gradients")
        precondition(learningRates.map { $0.count == params.count } ?? true, "Adam: one learning rate per array")
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.count) }; v = m
        }
        step += 1
        let bc1 = 1 - pow(beta1, Double(step)), bc2 = 1 - pow(beta2, Double(step))
        let bc2Sqrt = Float(bc2.squareRoot())
        let b1 = Float(beta1), b2 = Float(beta2), e = Float(eps), wd = Float(weightDecay)
        for t in params.indices {
            let stepSize = Float((learningRates?[t] ?? learningRate) / bc1)
            precondition(params[t].count == gradients[t].count && params[t].count == m[t].count, "Adam: size changed")
            params[t].withUnsafeMutableBufferPointer { p in
                gradients[t].withUnsafeBufferPointer { g in
                    m[t].withUnsafeMutableBufferPointer { mp in
                        v[t].withUnsafeMutableBufferPointer { vp in
                            for i in 0..<p.count {
                                let gi = wd == 0 ? g[i] : g[i] + wd * p[i]
                                mp[i] = mp[i] * b1 + (1 - b1) * gi
                                vp[i] = vp[i] * b2 + (1 - b2) * gi * gi
                                let denom = vp[i].squareRoot() / bc2Sqrt + e
                                p[i] -= stepSize * (mp[i] / denom)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One step on a linear head.
    public mutating func update(_ head: inout LinearHead, weightGradient: Tensor, biasGradient: Tensor) {
        head.update { w, b in
            var ps = [w, b]
            w = []; b = []   // drop references so the update happens in place
            update(&ps, gradients: [weightGradient.data, biasGradient.data])
            w = ps[0]; b = ps[1]
        }
    }
}
