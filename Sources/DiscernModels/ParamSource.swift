import DiscernEngine
import DiscernWeights

/// Hands parameters to the builders: from a WeightStore (shape-checked, by PyTorch key) or,
/// without one, seeded He-style random values with identity batch-norm.
final class ParamSource {
    let store: WeightStore?
    private var rng: SplitMix64

    init(store: WeightStore?, seed: UInt64) { self.store = store; rng = .backbone(seed: seed) }

    func conv(_ key: String, out: Int, in inPerGroup: Int, kernel: Int) throws -> Tensor {
        let shape = [out, inPerGroup, kernel, kernel]
        if let s = store { return try s.take(key + ".weight", shape: shape) }
        // He uniform: variance 2 / fan_in.
        let bound = (6.0 / Float(inPerGroup * kernel * kernel)).squareRoot()
        let n = shape.reduce(1, *)
        var data = [Float](repeating: 0, count: n)
        for i in 0..<n { data[i] = (rng.nextUnitFloat() * 2 - 1) * bound }
        return Tensor(shape: shape, data: data)
    }

    func batchNorm(_ key: String, channels c: Int, eps: Float) throws -> BatchNormParams {
        guard let s = store else {
            return BatchNormParams(gamma: .init(repeating: 1, count: c), beta: .init(repeating: 0, count: c),
                                   mean: .init(repeating: 0, count: c), variance: .init(repeating: 1, count: c), eps: eps)
        }
        func v(_ name: String) throws -> [Float] { try s.take("\(key).\(name)", shape: [c]).data }
        return BatchNormParams(gamma: try v("weight"), beta: try v("bias"), mean: try v("running_mean"),
                               variance: try v("running_var"), eps: eps)
    }
}

extension SplitMix64 {
    /// The generator of random backbones: its state starts one step past `seed`.
    static func backbone(seed: UInt64) -> SplitMix64 { SplitMix64(state: seed &+ 0x9E37_79B9_7F4A_7C15) }
}
