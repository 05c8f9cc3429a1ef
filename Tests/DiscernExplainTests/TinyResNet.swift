import DiscernEngine

/// The fixture's TinyResNet (torchvision layout, small widths) as a Graph, built by hand from the
/// saved state dict (keys prefixed "model."): input → flattened features; `fc` returned separately.
enum TinyResNet {
    static func build(_ f: Fixture) throws -> (Graph, LinearParams) {
        func w(_ k: String) throws -> Tensor { try f.t("model." + k) }
        var g = Graph()
        func convBN(_ x: Int, _ conv: String, _ bn: String, stride: Int, pad: Int) throws -> Int {
            let c = g.add(
                .conv2d(Conv2dParams(weight: try w(conv + ".weight"), stride: stride, padding: pad)), [x], names: [conv]
            )
            let p = BatchNormParams(
                gamma: try w(bn + ".weight").data, beta: try w(bn + ".bias").data,
                mean: try w(bn + ".running_mean").data, variance: try w(bn + ".running_var").data)
            return g.add(.batchNorm(p), [c], names: [bn])
        }
        var x = g.input()
        x = try convBN(x, "conv1", "bn1", stride: 2, pad: 3)
        x = g.add(.relu, [x], names: ["relu"])
        x = g.add(.maxPool(PoolParams(kernel: 3, stride: 2, padding: 1)), [x], names: ["maxpool"])
        for (layer, firstStride) in [("layer1", 1), ("layer2", 2)] {
            for b in 0..<2 {
                let p = "\(layer).\(b)", s = b == 0 ? firstStride : 1
                var y = try convBN(x, p + ".conv1", p + ".bn1", stride: 1, pad: 0)
                y = g.add(.relu, [y])
                y = try convBN(y, p + ".conv2", p + ".bn2", stride: s, pad: 1)
                y = g.add(.relu, [y])
                y = try convBN(y, p + ".conv3", p + ".bn3", stride: 1, pad: 0)
                let id = b == 0 ? try convBN(x, p + ".downsample.0", p + ".downsample.1", stride: s, pad: 0) : x
                let sum = g.add(.add, [y, id])
                x = g.add(.relu, [sum], names: b == 1 ? [p, layer] : [p])
            }
        }
        x = g.add(.globalAvgPool, [x], names: ["avgpool"])
        g.add(.flatten, [x], names: ["flatten"])
        return (g, try LinearParams(weight: try w("fc.weight"), bias: try w("fc.bias")))
    }
}
