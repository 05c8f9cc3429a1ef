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

    /// One stage of mobile inverted bottleneck blocks: `repeats` blocks, the first with `stride` and
    /// `inputChannels`, the rest with stride 1 and `outputChannels` in and out.
    struct Stage: Sendable, Equatable {
        let repeats: Int
        let kernel: Int
        let stride: Int
        /// Expansion ratio of the block's 1x1 expand convolution (1: no expand convolution).
        let expansion: Int
        let inputChannels: Int
        let outputChannels: Int
    }

    /// Lite0's stages before scaling.
    static let baseStages: [Stage] = [
        Stage(repeats: 1, kernel: 3, stride: 1, expansion: 1, inputChannels: 32, outputChannels: 16),
        Stage(repeats: 2, kernel: 3, stride: 2, expansion: 6, inputChannels: 16, outputChannels: 24),
        Stage(repeats: 2, kernel: 5, stride: 2, expansion: 6, inputChannels: 24, outputChannels: 40),
        Stage(repeats: 3, kernel: 3, stride: 2, expansion: 6, inputChannels: 40, outputChannels: 80),
        Stage(repeats: 3, kernel: 5, stride: 1, expansion: 6, inputChannels: 80, outputChannels: 112),
        Stage(repeats: 4, kernel: 5, stride: 2, expansion: 6, inputChannels: 112, outputChannels: 192),
        Stage(repeats: 1, kernel: 3, stride: 1, expansion: 6, inputChannels: 192, outputChannels: 320),
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
    static func stages(_ scaling: Scaling) -> [Stage] {
        baseStages.enumerated().map { index, stage in
            let fixed = index == 0 || index == baseStages.count - 1
            let repeats = fixed ? stage.repeats : Int((scaling.depth * Double(stage.repeats)).rounded(.up))
            let input = index == 0 ? stemChannels : scaledChannels(stage.inputChannels, width: scaling.width)
            return Stage(
                repeats: repeats, kernel: stage.kernel, stride: stage.stride, expansion: stage.expansion,
                inputChannels: input, outputChannels: scaledChannels(stage.outputChannels, width: scaling.width))
        }
    }

    /// TF "same": output ceil(size / stride); the odd padding pixel goes to bottom/right.
    static func samePadding(size: Int, kernel: Int, stride: Int) -> (lo: Int, hi: Int, out: Int) {
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2, out)
    }

    /// Conv + BN + optional ReLU6 on a square map of side `size`; returns (node, new size).
    static func unit(_ builder: ModelBuilder, _ input: Int, size: Int, conv: ModulePath, bn: ModulePath,
                     in inChannels: Int, out: Int, kernel: Int, stride: Int, groups: Int = 1,
                     activation: Bool) throws -> (node: Int, size: Int) {
        let pad = samePadding(size: size, kernel: kernel, stride: stride)
        var branch = try builder.conv(conv, input, in: inChannels, out: out, kernel: kernel, stride: stride,
                                 pad: (pad.lo, pad.lo, pad.hi, pad.hi), groups: groups)
        branch = try builder.batchNorm(bn, branch, channels: out, eps: eps)
        if activation { branch = builder.add(.relu6, [branch]) }
        return (branch, pad.out)
    }

    /// The graph (input -> pooled features) for a square input of side `inputSize`, and the feature count.
    static func build(_ scaling: Scaling, _ builder: ModelBuilder, inputSize: Int) throws -> (Graph, Int) {
        let root = ModulePath.root
        var node = builder.input()
        var size = inputSize
        (node, size) = try unit(builder, node, size: size, conv: root.child("_conv_stem"), bn: root.child("_bn0"),
                             in: 3, out: stemChannels, kernel: 3, stride: 2, activation: true)
        var blockIndex = 0
        var channels = stemChannels
        for stage in stages(scaling) {
            for repeatIndex in 0..<stage.repeats {
                let inChannels = repeatIndex == 0 ? stage.inputChannels : stage.outputChannels
                let stride = repeatIndex == 0 ? stage.stride : 1
                let block = root.child("_blocks").child(blockIndex)
                let mid = inChannels * stage.expansion
                var branch = node
                var side = size
                if stage.expansion != 1 {
                    (branch, side) = try unit(builder, branch, size: side, conv: block.child("_expand_conv"),
                                         bn: block.child("_bn0"), in: inChannels, out: mid, kernel: 1, stride: 1,
                                         activation: true)
                }
                (branch, side) = try unit(builder, branch, size: side, conv: block.child("_depthwise_conv"),
                                     bn: block.child("_bn1"), in: mid, out: mid, kernel: stage.kernel, stride: stride,
                                     groups: mid, activation: true)
                (branch, side) = try unit(builder, branch, size: side, conv: block.child("_project_conv"),
                                     bn: block.child("_bn2"), in: mid, out: stage.outputChannels, kernel: 1,
                                     stride: 1, activation: false)
                if stride == 1 && inChannels == stage.outputChannels { branch = builder.add(.add, [branch, node]) }
                builder.name(branch, block)
                node = branch
                size = side
                blockIndex += 1
                channels = stage.outputChannels
            }
        }
        (node, size) = try unit(builder, node, size: size, conv: root.child("_conv_head"), bn: root.child("_bn1"),
                             in: channels, out: headChannels, kernel: 1, stride: 1, activation: true)
        node = builder.add(.globalAvgPool, [node], names: ["_avg_pooling"])
        node = builder.add(.flatten, [node], names: ["flatten"])
        return (builder.graph, headChannels)
    }
}
