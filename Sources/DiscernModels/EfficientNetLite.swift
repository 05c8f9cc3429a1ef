import DiscernEngine

/// EfficientNet-Lite0 as efficientnet_pytorch's lite variant builds it (keys `_conv_stem`,
/// `_blocks.N._expand_conv`, ...): TensorFlow "same" padding, ReLU6, no squeeze-excitation,
/// BN eps 1e-3, identity skip where stride 1 and in == out.
enum EfficientNetLite {
    /// (repeats, kernel, stride, expand, in, out) per stage.
    static let lite0Stages: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]
    static let eps: Float = 1e-3

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

    static func lite0(_ p: ParamSource, inputSize: Int) throws -> (Graph, Int) {
        var g = Graph()
        var x = g.input()
        var size = inputSize
        (x, size) = try unit(&g, p, x, size: size, conv: "_conv_stem", bn: "_bn0", in: 3, out: 32, k: 3, stride: 2, act: true)
        var idx = 0
        for (repeats, k, stride0, expand, cin0, cout) in lite0Stages {
            for r in 0..<repeats {
                let cin = r == 0 ? cin0 : cout, stride = r == 0 ? stride0 : 1
                let path = "_blocks.\(idx)"
                let mid = cin * expand
                var y = x, s = size
                if expand != 1 {
                    (y, s) = try unit(&g, p, y, size: s, conv: path + "._expand_conv", bn: path + "._bn0",
                                      in: cin, out: mid, k: 1, stride: 1, act: true)
                }
                (y, s) = try unit(&g, p, y, size: s, conv: path + "._depthwise_conv", bn: path + "._bn1",
                                  in: mid, out: mid, k: k, stride: stride, groups: mid, act: true)
                (y, s) = try unit(&g, p, y, size: s, conv: path + "._project_conv", bn: path + "._bn2",
                                  in: mid, out: cout, k: 1, stride: 1, act: false)
                if stride == 1 && cin == cout { y = g.add(.add, [y, x]) }
                g.name(y, path)
                x = y; size = s; idx += 1
            }
        }
        (x, size) = try unit(&g, p, x, size: size, conv: "_conv_head", bn: "_bn1", in: 320, out: 1280, k: 1, stride: 1, act: true)
        x = g.add(.globalAvgPool, [x], names: ["_avg_pooling"])
        x = g.add(.flatten, [x], names: ["flatten"])
        return (g, 1280)
    }
}
