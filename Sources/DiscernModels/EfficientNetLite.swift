import DiscernEngine

/// EfficientNet-Lite0...Lite4 as efficientnet_lite_pytorch builds them (keys `_conv_stem`,
/// `_blocks.N._expand_conv`, ...): TensorFlow "same" padding, ReLU6, no squeeze-excitation,
/// BN eps 1e-3, identity skip where stride 1 and in == out.
enum EfficientNetLite {
    /// A variant's compound scaling (efficientnet_lite_builder.py): channel and repeat multipliers, input side.
    struct Scaling: Sendable, Equatable {
        let width: Double
        let depth: Double
        let resolution: Int
    }

    static func scaling(_ kind: BackboneKind) -> Scaling? {
        switch kind {
        case .efficientnetLite0: return Scaling(width: 1.0, depth: 1.0, resolution: 224)
        case .efficientnetLite1: return Scaling(width: 1.0, depth: 1.1, resolution: 240)
        case .efficientnetLite2: return Scaling(width: 1.1, depth: 1.2, resolution: 260)
        case .efficientnetLite3: return Scaling(width: 1.2, depth: 1.4, resolution: 280)
        case .efficientnetLite4: return Scaling(width: 1.4, depth: 1.8, resolution: 300)
        default: return nil
        }
    }

    /// Lite0's stages before scaling: (repeats, kernel, stride, expand, in, out).
    static let baseStages: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]
    /// Lite keeps the stem and head widths fixed (quantisation-friendly), whatever the width multiplier.
    static let stemChannels = 32
    static let headChannels = 1280
    static let eps: Float = 1e-3

    /// TensorFlow's round_filters: the nearest multiple of 8, never more than 10% below the scaled count.
    static func scaledChannels(_ channels: Int, width: Double) -> Int {
        let scaled = Double(channels) * width
        var rounded = max(8, Int(scaled + 4) / 8 * 8)
        if Double(rounded) < 0.9 * scaled { rounded += 8 }
        return rounded
    }

    /// The stages after scaling. Lite scales neither the first nor the last stage's repeats, and the first
    /// stage always reads the fixed 32-channel stem.
    static func stages(_ s: Scaling) -> [(Int, Int, Int, Int, Int, Int)] {
        baseStages.enumerated().map { index, stage in
            let (repeats, k, stride, expand, cin, cout) = stage
            let fixed = index == 0 || index == baseStages.count - 1
            let r = fixed ? repeats : Int((s.depth * Double(repeats)).rounded(.up))
            let input = index == 0 ? stemChannels : scaledChannels(cin, width: s.width)
            return (r, k, stride, expand, input, scaledChannels(cout, width: s.width))
        }
    }

    /// TF "same": output ceil(size / stride); the odd padding pixel goes to bottom/right.
    static func samePadding(size: Int, kernel: Int, stride: Int) -> (lo: Int, hi: Int, out: Int) {
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2, out)
    }

    /// Conv + BN + optional ReLU6 on a square map of side `size`; returns (node, new size).
    static func unit(_ g: inout Graph, _ p: ParamSource, _ x: Int, size: Int, conv: String, bn: String,
                     in cin: Int, out: Int, k: Int, stride: Int, groups: Int = 1, act: Bool) throws -> (Int, Int) {
        let w = try p.conv(conv, out: out, in: cin / groups, kernel: k)
        let pad = samePadding(size: size, kernel: k, stride: stride)
        let params = Conv2dParams(weight: w, bias: nil, stride: (stride, stride),
                                  pad: (pad.lo, pad.lo, pad.hi, pad.hi), groups: groups)
        var y = g.add(.conv2d(params), [x], names: [conv])
        y = g.add(.batchNorm(try p.batchNorm(bn, channels: out, eps: eps)), [y], names: [bn])
        if act { y = g.add(.relu6, [y]) }
        return (y, pad.out)
    }

    /// The graph (input -> pooled features) for a square input of side `inputSize`, and the feature count.
    static func build(_ s: Scaling, _ p: ParamSource, inputSize: Int) throws -> (Graph, Int) {
        var g = Graph()
        var x = g.input()
        var size = inputSize
        (x, size) = try unit(&g, p, x, size: size, conv: "_conv_stem", bn: "_bn0",
                             in: 3, out: stemChannels, k: 3, stride: 2, act: true)
        var idx = 0
        var channels = stemChannels
        for (repeats, k, stride0, expand, cin0, cout) in stages(s) {
            for r in 0..<repeats {
                let cin = r == 0 ? cin0 : cout, stride = r == 0 ? stride0 : 1
                let path = "_blocks.\(idx)"
                let mid = cin * expand
                var y = x, side = size
                if expand != 1 {
                    (y, side) = try unit(&g, p, y, size: side, conv: path + "._expand_conv", bn: path + "._bn0",
                                         in: cin, out: mid, k: 1, stride: 1, act: true)
                }
                (y, side) = try unit(&g, p, y, size: side, conv: path + "._depthwise_conv", bn: path + "._bn1",
                                     in: mid, out: mid, k: k, stride: stride, groups: mid, act: true)
                (y, side) = try unit(&g, p, y, size: side, conv: path + "._project_conv", bn: path + "._bn2",
                                     in: mid, out: cout, k: 1, stride: 1, act: false)
                if stride == 1 && cin == cout { y = g.add(.add, [y, x]) }
                g.name(y, path)
                x = y; size = side; idx += 1; channels = cout
            }
        }
        (x, size) = try unit(&g, p, x, size: size, conv: "_conv_head", bn: "_bn1",
                             in: channels, out: headChannels, k: 1, stride: 1, act: true)
        x = g.add(.globalAvgPool, [x], names: ["_avg_pooling"])
        x = g.add(.flatten, [x], names: ["flatten"])
        return (g, headChannels)
    }
}
