import DiscernEngine
import DiscernWeights

public enum BackboneKind: String, CaseIterable, Sendable {
    case resnet18, resnet34, resnet50, resnet101, resnet152
    case efficientnetLite0 = "efficientnet-lite0"
    case efficientnetLite1 = "efficientnet-lite1"
    case efficientnetLite2 = "efficientnet-lite2"
    case efficientnetLite3 = "efficientnet-lite3"
    case efficientnetLite4 = "efficientnet-lite4"

    public var isEfficientNetLite: Bool { EfficientNetLite.scaling(self) != nil }

    /// The side the ImageNet weights were trained at: preprocessing resizes every photo to it
    /// (training, predict, explain, serve).
    public var inputSize: Int { EfficientNetLite.scaling(self)?.resolution ?? 224 }
}

/// Per-channel input normalisation on [0,1] RGB: (x - mean) / std.
public struct Normalization: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }
    public static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// EfficientNet-Lite: (255x - 127) / 128.
    public static let lite = Normalization(mean: [Float](repeating: 127.0 / 255.0, count: 3),
                                           std: [Float](repeating: 128.0 / 255.0, count: 3))
}

/// A frozen feature extractor: `graph` maps [N,3,H,W] to penultimate features [N, featureCount].
public struct Backbone: Sendable {
    public let kind: BackboneKind
    public let graph: Graph
    public let featureCount: Int
    /// The ImageNet classifier (`fc` / `_fc`) when the weights carry one.
    public let imagenetHead: LinearParams?
    public let normalization: Normalization
    public let inputSize: Int
    /// Default Grad-CAM layer: last block of the last stage.
    public let defaultCAMLayer: String

    /// Builds `kind` from PyTorch-named `weights` (every key and shape is checked, leftovers
    /// other than the ImageNet head are an error), or seeded He-style random weights when nil.
    /// `inputSize` (default: the kind's own, `kind.inputSize`) fixes EfficientNet's TensorFlow "same" padding.
    public static func build(_ kind: BackboneKind, weights: WeightStore?, seed: UInt64 = 0,
                             inputSize: Int? = nil) throws -> Backbone {
        let inputSize = inputSize ?? kind.inputSize
        let builder = ModelBuilder(store: weights, seed: seed)
        let graph: Graph
        let features: Int
        let head: ModulePath
        let camLayer: String
        let normalization: Normalization
        switch EfficientNetLite.scaling(kind) {
        case let scaling?:
            (graph, features) = try EfficientNetLite.build(scaling, builder, inputSize: inputSize)
            head = ModulePath.root.child("_fc")
            camLayer = "_conv_head"
            normalization = .lite
        case nil:
            let spec = ResNet.spec(kind)
            (graph, features) = try ResNet.build(spec, builder)
            head = ModulePath.root.child("fc")
            camLayer = "layer4.\(spec.layers[3] - 1)"
            normalization = .imagenet
        }
        let imagenetHead = try builder.head(head, features: features)
        try builder.finish()
        return Backbone(kind: kind, graph: graph, featureCount: features, imagenetHead: imagenetHead,
                        normalization: normalization, inputSize: inputSize, defaultCAMLayer: camLayer)
    }
}

extension Backbone {
    /// A torchvision-style ResNet of any depth/width (e.g. the narrow test networks); `kind`
    /// reports the nearest standard family (resnet50 for bottleneck, resnet18 for basic blocks).
    public static func resnet(
        bottleneck: Bool, layers: [Int], widths: [Int] = [64, 128, 256, 512],
        weights: WeightStore?, seed: UInt64 = 0, inputSize: Int = 224
    ) throws -> Backbone {
        guard layers.count == 4, widths.count == 4, layers.allSatisfy({ $0 >= 1 }), widths.allSatisfy({ $0 >= 1 })
        else {
            throw EngineError.invalid(
                "ResNet needs 4 stages with at least one block and one channel each, got \(layers) / \(widths)")
        }
        let spec = ResNet.Spec(bottleneck: bottleneck, layers: layers, widths: widths)
        let builder = ModelBuilder(store: weights, seed: seed)
        let (graph, features) = try ResNet.build(spec, builder)
        let fc = try builder.head(ModulePath.root.child("fc"), features: features)
        try builder.finish()
        return Backbone(
            kind: bottleneck ? .resnet50 : .resnet18, graph: graph, featureCount: features, imagenetHead: fc,
            normalization: .imagenet, inputSize: inputSize, defaultCAMLayer: "layer4.\(layers[3] - 1)")
    }
}
