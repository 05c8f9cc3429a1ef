import DiscernEngine

/// The CAM methods Discern implements; raw values are the CLI spellings.
public enum CAMMethod: String, CaseIterable, Sendable {
    case gradcam, gradcamPlusPlus = "gradcam++", hirescam, xgradcam, layercam, eigencam, scorecam

    /// The formula that turns target-layer activations (and gradients) into a raw map.
    /// Score-CAM has none: its channel weights need forwards on masked inputs (see `ScoreCAM`).
    public var formula: CAMFormula? {
        switch self {
        case .gradcam: return GradCAM()
        case .gradcamPlusPlus: return GradCAMPlusPlus()
        case .hirescam: return HiResCAM()
        case .xgradcam: return XGradCAM()
        case .layercam: return LayerCAM()
        case .eigencam: return EigenCAM()
        case .scorecam: return nil
        }
    }

    /// Whether the method needs d(target)/d(activation).
    public var needsGradients: Bool { self != .eigencam && self != .scorecam }

    /// Accepts the CLI spelling and a few common aliases ("gradcampp", "grad-cam").
    public init?(name: String) {
        let spelling = name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
        switch spelling {
        case "gradcampp", "gradcamplusplus": self = .gradcamPlusPlus
        default:
            guard let method = CAMMethod(rawValue: spelling) else { return nil }
            self = method
        }
    }
}

/// How one method forms its raw (pre-ReLU) map from activations A and gradients dA,
/// both [N,C,h,w]; the result is [N,h,w]. The base (`CAMExplainer`) owns the rest.
public protocol CAMFormula: Sendable {
    func rawCAM(activations: Tensor, gradients: Tensor?) throws -> Tensor
}

/// Methods that weight each channel by one number per image: cam = Σ_c w[n,c] · A[n,c].
public protocol ChannelWeighting: CAMFormula {
    /// Weights [N,C] from activations and gradients of shape [N,C,h,w].
    func weights(activations: Tensor, gradients: Tensor) -> [Float]
}

extension ChannelWeighting {
    public func rawCAM(activations: Tensor, gradients: Tensor?) throws -> Tensor {
        let g = try CAMMath.checkPair(activations, gradients)
        return CAMMath.weightedSum(activations, weights: weights(activations: activations, gradients: g))
    }
}

/// Shared loops over [N,C,h,w] maps.
public enum CAMMath {
    static func dims(_ t: Tensor) -> (n: Int, c: Int, hw: Int) {
        (t.shape[0], t.shape[1], t.shape[2] * t.shape[3])
    }

    static func checkPair(_ a: Tensor, _ g: Tensor?) throws -> Tensor {
        guard a.rank == 4 else { throw ExplainError.badShape("activations", a.shape) }
        guard let g else { throw ExplainError.invalid("this CAM method needs gradients of the target layer") }
        try g.expectShape(a.shape, "gradients of the target layer")
        return g
    }

    /// Σ_c w[n,c] · A[n,c,:,:] → [N,h,w].
    public static func weightedSum(_ a: Tensor, weights: [Float]) -> Tensor {
        let (n, c, hw) = dims(a)
        var out = [Float](repeating: 0, count: n * hw)
        a.data.withUnsafeBufferPointer { ap in
            out.withUnsafeMutableBufferPointer { op in
                for i in 0..<n {
                    let o = op.baseAddress! + i * hw
                    for ch in 0..<c {
                        let w = weights[i * c + ch]
                        if w == 0 { continue }
                        let src = ap.baseAddress! + (i * c + ch) * hw
                        for p in 0..<hw { o[p] += w * src[p] }
                    }
                }
            }
        }
        return Tensor(shape: [n, a.shape[2], a.shape[3]], data: out)
    }

    /// Σ_c f(A, dA) elementwise → [N,h,w] (HiResCAM, LayerCAM).
    static func elementwiseSum(_ a: Tensor, _ g: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let (n, c, hw) = dims(a)
        var out = [Float](repeating: 0, count: n * hw)
        a.data.withUnsafeBufferPointer { ap in
            g.data.withUnsafeBufferPointer { gp in
                out.withUnsafeMutableBufferPointer { op in
                    for i in 0..<n {
                        let o = op.baseAddress! + i * hw
                        for ch in 0..<c {
                            let base = (i * c + ch) * hw
                            for p in 0..<hw { o[p] += f(ap[base + p], gp[base + p]) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, a.shape[2], a.shape[3]], data: out)
    }

    /// Per (n,c) reduction over the spatial positions, accumulated in Double.
    static func perChannel(
        _ a: Tensor, _ g: Tensor, _ body: (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Double
    ) -> [Float] {
        let (n, c, hw) = dims(a)
        var w = [Float](repeating: 0, count: n * c)
        a.data.withUnsafeBufferPointer { ap in
            g.data.withUnsafeBufferPointer { gp in
                for k in 0..<(n * c) {
                    w[k] = Float(body(ap.baseAddress! + k * hw, gp.baseAddress! + k * hw, hw))
                }
            }
        }
        return w
    }
}
