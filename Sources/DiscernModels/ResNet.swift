import DiscernEngine

/// torchvision ResNets (v1.5: the bottleneck's stride sits on its 3x3), unfolded, with
/// torchvision's module paths as node names and weight keys.
enum ResNet {
    struct Spec {
        let bottleneck: Bool
        let layers: [Int]
        let widths: [Int]
    }

    static func spec(_ kind: BackboneKind) -> Spec {
        let widths = [64, 128, 256, 512]
        switch kind {
        case .resnet18: return Spec(bottleneck: false, layers: [2, 2, 2, 2], widths: widths)
        case .resnet34: return Spec(bottleneck: false, layers: [3, 4, 6, 3], widths: widths)
        case .resnet101: return Spec(bottleneck: true, layers: [3, 4, 23, 3], widths: widths)
        case .resnet152: return Spec(bottleneck: true, layers: [3, 8, 36, 3], widths: widths)
        default: return Spec(bottleneck: true, layers: [3, 4, 6, 3], widths: widths)
        }
    }

    static let eps: Float = 1e-5

    /// Conv (no bias, "same" padding for odd kernels) + BatchNorm at the two given module paths.
    static func convBN(_ builder: ModelBuilder, _ input: Int, conv: ModulePath, bn: ModulePath,
                       in inChannels: Int, out: Int, kernel: Int, stride: Int) throws -> Int {
        let pad = kernel / 2
        let convolution = try builder.conv(conv, input, in: inChannels, out: out, kernel: kernel, stride: stride,
                                           pad: (pad, pad, pad, pad))
        return try builder.batchNorm(bn, convolution, channels: out, eps: eps)
    }

    /// Returns the graph (input -> flattened features) and the feature count.
    static func build(_ spec: Spec, _ builder: ModelBuilder) throws -> (Graph, Int) {
        let root = ModulePath.root
        var node = builder.input()
        node = try convBN(builder, node, conv: root.child("conv1"), bn: root.child("bn1"),
                       in: 3, out: spec.widths[0], kernel: 7, stride: 2)
        node = builder.add(.relu, [node], names: ["relu"])
        node = builder.add(.maxPool(PoolParams(kernel: 3, stride: 2, padding: 1)), [node], names: ["maxpool"])
        let expansion = spec.bottleneck ? 4 : 1
        var inplanes = spec.widths[0]
        for (layerIndex, (blocks, planes)) in zip(spec.layers, spec.widths).enumerated() {
            let layer = root.child("layer\(layerIndex + 1)")
            for blockIndex in 0..<blocks {
                let block = layer.child(blockIndex)
                let stride = (blockIndex == 0 && layerIndex > 0) ? 2 : 1
                let out = planes * expansion
                var branch: Int
                if spec.bottleneck {
                    branch = try convBN(builder, node, conv: block.child("conv1"), bn: block.child("bn1"),
                                   in: inplanes, out: planes, kernel: 1, stride: 1)
                    branch = builder.add(.relu, [branch])
                    branch = try convBN(builder, branch, conv: block.child("conv2"), bn: block.child("bn2"),
                                   in: planes, out: planes, kernel: 3, stride: stride)
                    branch = builder.add(.relu, [branch])
                    branch = try convBN(builder, branch, conv: block.child("conv3"), bn: block.child("bn3"),
                                   in: planes, out: out, kernel: 1, stride: 1)
                } else {
                    branch = try convBN(builder, node, conv: block.child("conv1"), bn: block.child("bn1"),
                                   in: inplanes, out: planes, kernel: 3, stride: stride)
                    branch = builder.add(.relu, [branch])
                    branch = try convBN(builder, branch, conv: block.child("conv2"), bn: block.child("bn2"),
                                   in: planes, out: out, kernel: 3, stride: 1)
                }
                var identity = node
                if stride != 1 || inplanes != out {
                    let downsample = block.child("downsample")
                    identity = try convBN(builder, node, conv: downsample.child(0), bn: downsample.child(1),
                                          in: inplanes, out: out, kernel: 1, stride: stride)
                }
                let sum = builder.add(.add, [branch, identity])
                var names = [block.name]
                if blockIndex == blocks - 1 { names.append(layer.name) }
                node = builder.add(.relu, [sum], names: names)
                inplanes = out
            }
        }
        node = builder.add(.globalAvgPool, [node], names: ["avgpool"])
        node = builder.add(.flatten, [node], names: ["flatten"])
        return (builder.graph, inplanes)
    }
}
