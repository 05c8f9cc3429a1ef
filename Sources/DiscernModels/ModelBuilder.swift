import DiscernEngine
import DiscernWeights

/// A PyTorch module path (`layer1.0.conv1`, `_blocks.3._bn1`), built one component at a time like
/// candle's `vb.pp("layer1")`: the same path names the graph node and prefixes the weight keys.
struct ModulePath: Sendable, Equatable {
    /// The dotted path; empty at the root.
    let name: String

    static let root = ModulePath(name: "")

    /// The sub-module `component` of this one.
    func child(_ component: String) -> ModulePath {
        ModulePath(name: name.isEmpty ? component : name + "." + component)
    }

    /// The `index`-th entry of a sequential container (`layer1.0`, `downsample.1`).
    func child(_ index: Int) -> ModulePath { child(String(index)) }

    /// The key of one of this module's tensors (`conv1.weight`).
    func key(_ parameter: String) -> String { child(parameter).name }
}

/// Builds a backbone's graph and hands it its parameters: from a WeightStore (shape-checked, by
/// PyTorch key) or, without one, seeded He-style random values with identity batch-norm. Every
/// layer is added under its `ModulePath`, which is both its node name and its weight prefix.
final class ModelBuilder {
    private(set) var graph = Graph()
    let store: WeightStore?
    private var rng: SplitMix64

    init(store: WeightStore?, seed: UInt64) {
        self.store = store
        rng = .backbone(seed: seed)
    }

    func input() -> Int { graph.input() }

    /// Adds an unnamed node (or one named by `names`) reading `inputs`.
    func add(_ op: Op, _ inputs: [Int], names: [String] = []) -> Int { graph.add(op, inputs, names: names) }

    /// Gives `node` the module path `path` too (a block's output).
    func name(_ node: Int, _ path: ModulePath) { graph.name(node, path.name) }

    /// A bias-free convolution at `path` (weight `<path>.weight`, [out, in/groups, k, k]) reading `input`.
    func conv(_ path: ModulePath, _ input: Int, in inChannels: Int, out: Int, kernel: Int, stride: Int,
              pad: (top: Int, left: Int, bottom: Int, right: Int), groups: Int = 1) throws -> Int {
        let weight = try convWeight(path, out: out, in: inChannels / groups, kernel: kernel)
        let params = Conv2dParams(weight: weight, bias: nil, stride: (stride, stride), pad: pad, groups: groups)
        return graph.add(.conv2d(params), [input], names: [path.name])
    }

    /// Inference-mode batch-norm at `path` (`weight`, `bias`, `running_mean`, `running_var`) reading `input`.
    func batchNorm(_ path: ModulePath, _ input: Int, channels: Int, eps: Float) throws -> Int {
        graph.add(.batchNorm(try batchNormParams(path, channels: channels, eps: eps)), [input], names: [path.name])
    }

    /// The classifier `fc` / `_fc` when the weights carry one, with the class count read from the file
    /// (WeightStore only hands out tensors of an expected shape, so a 1000-class guess is corrected).
    func head(_ path: ModulePath, features: Int) throws -> LinearParams? {
        guard let store, store.contains(path.key("weight")) else { return nil }
        let weight: Tensor
        do {
            weight = try store.take(path.key("weight"), shape: [1000, features])
        } catch WeightsError.shapeMismatch(_, _, let actual) where actual.count == 2 && actual[1] == features {
            weight = try store.take(path.key("weight"), shape: actual)
        }
        return try LinearParams(weight: weight, bias: try store.take(path.key("bias"), shape: [weight.shape[0]]))
    }

    /// Throws when the weights hold keys no layer asked for (weights of another architecture).
    func finish() throws { try store?.finish() }

    private func convWeight(_ path: ModulePath, out: Int, in inPerGroup: Int, kernel: Int) throws -> Tensor {
        let shape = [out, inPerGroup, kernel, kernel]
        if let store { return try store.take(path.key("weight"), shape: shape) }
        // He uniform: variance 2 / fan_in.
        let bound = (6.0 / Float(inPerGroup * kernel * kernel)).squareRoot()
        let count = shape.reduce(1, *)
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count { data[i] = (rng.nextUnitFloat() * 2 - 1) * bound }
        return Tensor(shape: shape, data: data)
    }

    private func batchNormParams(_ path: ModulePath, channels: Int, eps: Float) throws -> BatchNormParams {
        guard let store else {
            return BatchNormParams(
                gamma: .init(repeating: 1, count: channels), beta: .init(repeating: 0, count: channels),
                mean: .init(repeating: 0, count: channels),
                variance: .init(repeating: 1, count: channels), eps: eps)
        }
        func values(_ name: String) throws -> [Float] { try store.take(path.key(name), shape: [channels]).data }
        return BatchNormParams(gamma: try values("weight"), beta: try values("bias"), mean: try values("running_mean"),
                               variance: try values("running_var"), eps: eps)
    }
}

extension SplitMix64 {
    /// The generator of random backbones: its state starts one step past `seed`.
    static func backbone(seed: UInt64) -> SplitMix64 { SplitMix64(state: seed &+ 0x9E37_79B9_7F4A_7C15) }
}
