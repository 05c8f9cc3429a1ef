import DiscernEngine

/// torchvision ResNets (v1.5: the bottleneck's stride sits on its 3x3), unfolded, with
/// torchvision's module paths as node names and weight keys.
enum ResNet {
    struct Spec { let bottleneck: Bool; let layers: [Int]; let widths: [Int] }

    static func spec(_ kind: BackboneKind) -> Spec {
        let w = [64, 128, 256, 512]
        switch kind {
        case .resnet18: return Spec(bottleneck: false, layers: [2, 2, 2, 2], widths: w)
        case .resnet34: return Spec(bottleneck: false, layers: [3, 4, 6, 3], widths: w)
        case .resnet101: return Spec(bottleneck: true, layers: [3, 4, 23, 3], widths: w)
        case .resnet152: return Spec(bottleneck: true, layers: [3, 8, 36, 3], widths: w)
        default: return Spec(bottleneck: true, layers: [3, 4, 6, 3], widths: w)
        }
    }

    static let eps: Float = 1e-5

    /// Conv (no bias) + BatchNorm, named `<path>conv<k>` / `<path>bn<k>` style keys given explicitly.
    static func convBN(_ g: inout Graph, _ p: ParamSource, _ x: Int, conv: String, bn: String,
                       in cin: Int, out: Int, k: Int, stride: Int) throws -> Int {
        let w = try p.conv(conv, out: out, in: cin, kernel: k)
        let c = g.add(.conv2d(Conv2dParams(weight: w, stride: stride, padding: k / 2)), [x], names: [conv])
        return g.add(.batchNorm(try p.batchNorm(bn, channels: out, eps: eps)), [c], names: [bn])
    }

    /// Returns the graph (input -> flattened features) and the feature count.
    static func build(_ s: Spec, _ p: ParamSource) throws -> (Graph, Int) {
        var g = Graph()
        var x = g.input()
        x = try convBN(&g, p, x, conv: "conv1", bn: "bn1", in: 3, out: s.widths[0], k: 7, stride: 2)
        x = g.add(.relu, [x], names: ["relu"])
        x = g.add(.maxPool(PoolParams(kernel: 3, stride: 2, padding: 1)), [x], names: ["maxpool"])
        let expansion = s.bottleneck ? 4 : 1
        var inplanes = s.widths[0]
        for (li, (blocks, planes)) in zip(s.layers, s.widths).enumerated() {
            for b in 0..<blocks {
                let path = "layer\(li + 1).\(b)"
                let stride = (b == 0 && li > 0) ? 2 : 1
                let out = planes * expansion
                var y: Int
                if s.bottleneck {
                    y = try convBN(&g, p, x, conv: path + ".conv1", bn: path + ".bn1", in: inplanes, out: planes, k: 1, stride: 1)
                    y = g.add(.relu, [y])
                    y = try convBN(&g, p, y, conv: path + ".conv2", bn: path + ".bn2", in: planes, out: planes, k: 3, stride: stride)
                    y = g.add(.relu, [y])
                    y = try convBN(&g, p, y, conv: path + ".conv3", bn: path + ".bn3", in: planes, out: out, k: 1, stride: 1)
                } else {
                    y = try convBN(&g, p, x, conv: path + ".conv1", bn: path + ".bn1", in: inplanes, out: planes, k: 3, stride: stride)
                    y = g.add(.relu, [y])
                    y = try convBN(&g, p, y, conv: path + ".conv2", bn: path + ".bn2", in: planes, out: out, k: 3, stride: 1)
                }
                var identity = x
                if stride != 1 || inplanes != out {
                    identity = try convBN(&g, p, x, conv: path + ".downsample.0", bn: path + ".downsample.1",
                                          in: inplanes, out: out, k: 1, stride: stride)
                }
                let sum = g.add(.add, [y, identity])
                var names = [path]
                if b == blocks - 1 { names.append("layer\(li + 1)") }
                x = g.add(.relu, [sum], names: names)
                inplanes = out
            }
        }
        x = g.add(.globalAvgPool, [x], names: ["avgpool"])
        x = g.add(.flatten, [x], names: ["flatten"])
        return (g, inplanes)
    }
}
