import Foundation
import DiscernEngine
import DiscernModels

/// Which class a CAM explains: the predicted one (arg-max logit) or a given index per image.
public enum CAMTarget: Sendable, Equatable {
    case predicted
    case index(Int)
    case indices([Int])

    /// Resolves a class by name (exact, then case-insensitive) or by a decimal index.
    public static func named(_ name: String, classes: [String]) throws -> CAMTarget {
        let lowercased = name.lowercased()
        if let found = classes.firstIndex(of: name) ?? classes.firstIndex(where: { $0.lowercased() == lowercased }) {
            return .index(found)
        }
        if let index = Int(name) {
            guard index >= 0, index < classes.count else {
                throw ExplainError.classOutOfRange(index, classes: classes.count)
            }
            return .index(index)
        }
        throw ExplainError.unknownClass(name, available: classes)
    }
}

/// The CAM base: forward with a tap at the target layer (fused session before the layer, AutogradExecutor
/// from it on — see `CAMSplitPath`), logits = head(features), d(target logit)/d(tap)
/// by backpropagating the head's weight row, the method's raw map, then ReLU → min-max → bilinear
/// resize → min-max. Methods differ only in their `CAMFormula` (or Score-CAM's masked forwards).
public final class CAMExplainer {
    public let graph: Graph
    public let head: LinearParams
    public let layer: String
    public let method: CAMMethod
    /// Masked inputs per forward for Score-CAM (the fused session's batch).
    public var scoreCAMBatchSize = 32
    /// Score-CAM's masked forwards per image: nil = every channel, else the most varying ones (`ScoreCAM`).
    public var scoreCAMChannels: Int?
    /// Score-CAM's forward of masked inputs (input → features); must compute the same graph.
    /// Default: a fused `InferenceSession` of the whole graph on the fast path, the AutogradExecutor otherwise.
    public var scoringForward: ((Tensor) throws -> Tensor)?
    /// `explain` runs the graph up to the target layer on the fused InferenceSession and only the
    /// rest on the AutogradExecutor (see `CAMSplitPath`), and Score-CAM's masked forwards on a fused session;
    /// false runs everything on the AutogradExecutor (the reference path, and for benchmarking the two).
    /// Guided backprop needs the input gradient and always uses the full AutogradExecutor.
    public var useFastPath = true
    /// The full-graph AutogradExecutor (guided backprop, Score-CAM's default scoring, the reference path).
    let executor: AutogradExecutor
    private var split: CAMSplitPath?
    private var splitTried = false
    private(set) var scoringSession: InferenceSession?

    /// Made on first use: the fused session costs a weight copy and primitive creation.
    var splitPath: CAMSplitPath? {
        if !splitTried {
            splitTried = true
            split = CAMSplitPath(graph: graph, layer: layer)
        }
        return split
    }

    public struct Result: Sendable {
        public let classes: [Int]       // the class explained, per image
        public let logits: Tensor       // [N, classes]
        public let maps: CAMMaps        // [N,h,w] and [N,H,W], each in [0,1]
    }

    /// - graph: input [N,3,H,W] → features [N,F]; head: the classifier on those features.
    public init(graph: Graph, head: LinearParams, layer: String, method: CAMMethod = .gradcam) throws {
        _ = try graph.node(named: layer)  // unknown layer: the error lists what exists
        self.graph = graph
        self.head = head
        self.layer = layer
        self.method = method
        executor = AutogradExecutor(graph: graph)
    }

    /// Uses the backbone's default CAM layer (`layer4.2` for ResNet50, `_conv_head` for Lite0) unless given.
    public convenience init(backbone: Backbone, head: LinearParams, layer: String? = nil, method: CAMMethod = .gradcam)
        throws
    {
        try self.init(graph: backbone.graph, head: head, layer: layer ?? backbone.defaultCAMLayer, method: method)
    }

    /// Explains a batch x [N,3,H,W]: one forward (fused up to the target layer), one backward to
    /// the target layer (Grad-CAM family).
    public func explain(_ x: Tensor, target: CAMTarget = .predicted) throws -> Result {
        let pass = try forward(x, target, record: method.needsGradients, fast: useFastPath)
        return try finish(x, pass)
    }

    /// The CAM and the guided-backprop input gradient [N,3,H,W] from a single recorded forward.
    public func explainWithGuided(_ x: Tensor, target: CAMTarget = .predicted) throws -> (
        result: Result, guided: Tensor
    ) {
        let pass = try forward(x, target, record: true, fast: false)
        let backward = try executor.backward(outputGradient: featureGradient(pass.classes), wantInput: true,
                                             guidedReLU: true)
        guard let guided = backward.input else {
            throw ExplainError.invalid("the executor returned no input gradient")
        }
        return (try finish(x, pass), guided)  // Score-CAM's extra forwards come last
    }

    /// Guided backprop: d(target logit)/d(input) with ReLUs passing only positive gradients where
    /// their input was positive. Returns [N,3,H,W] and the classes used.
    public func guidedBackprop(_ x: Tensor, target: CAMTarget = .predicted) throws -> (gradient: Tensor, classes: [Int])
    {
        let classes = try forward(x, target, record: true, fast: false).classes
        let backward = try executor.backward(outputGradient: featureGradient(classes), wantInput: true,
                                             guidedReLU: true)
        guard let gradient = backward.input else {
            throw ExplainError.invalid("the executor returned no input gradient")
        }
        return (gradient, classes)
    }

    /// One forward with a tap at the target layer: the executor that recorded it (the split path's tail
    /// or the full one), the layer's activations, the logits and the classes to explain.
    struct ForwardPass {
        let executor: AutogradExecutor
        let activations: Tensor
        let logits: Tensor
        let classes: [Int]
    }

    func forward(_ x: Tensor, _ target: CAMTarget, record: Bool, fast: Bool) throws -> ForwardPass {
        guard x.rank == 4, x.shape[0] > 0 else { throw ExplainError.badShape("input images", x.shape) }
        let recorder: AutogradExecutor
        let result: AutogradExecutor.Forward
        if fast, let splitPath {
            recorder = splitPath.tail
            result = try splitPath.forward(x, taps: [layer], record: record)
        } else {
            recorder = executor
            result = try executor.forward(x, taps: [layer], recordForBackward: record)
        }
        guard let activations = result.activations[layer] else {
            throw ExplainError.invalid("layer '\(layer)' produced no activation")
        }
        guard activations.rank == 4 else {
            throw ExplainError.invalid("layer '\(layer)' has output shape \(activations.shape); "
                                       + "a CAM needs a [N,C,h,w] feature map")
        }
        let logits = try applyHead(result.output)
        return ForwardPass(executor: recorder, activations: activations, logits: logits,
                           classes: try resolve(target, logits))
    }

    /// The method's raw map (backward on the recorded forward when it needs gradients), then post-processing.
    func finish(_ x: Tensor, _ pass: ForwardPass) throws -> Result {
        let raw: Tensor
        switch method {
        case .scorecam:
            let scoreCAM = ScoreCAM(batchSize: scoreCAMBatchSize, maxChannels: scoreCAMChannels)
            raw = try scoreCAM.rawCAM(input: x, activations: pass.activations, targets: pass.classes) { batch in
                try self.applyHead(self.scoreFeatures(batch))
            }
        default:
            var gradients: Tensor?
            if method.needsGradients {
                let backward = try pass.executor.backward(outputGradient: featureGradient(pass.classes), taps: [layer])
                gradients = backward.gradients[layer]
            }
            raw = try method.formula!.rawCAM(activations: pass.activations, gradients: gradients)
        }
        return Result(classes: pass.classes, logits: pass.logits,
                      maps: CAMImage.postprocess(raw: raw, height: x.shape[2], width: x.shape[3]))
    }

    /// Features of Score-CAM's masked inputs: the injected forward, else the fused session (made on
    /// first use: it costs a weight copy and primitive creation), else the AutogradExecutor.
    func scoreFeatures(_ batch: Tensor) throws -> Tensor {
        if let scoringForward { return try scoringForward(batch) }
        guard useFastPath else { return try executor.forward(batch).output }
        if let session = scoringSession, session.batchSize >= batch.shape[0] { return try session.run(batch) }
        let session = try InferenceSession(graph: graph, batchSize: max(scoreCAMBatchSize, batch.shape[0]))
        scoringSession = session
        return try session.run(batch)
    }

    /// logits = features · Wᵀ + b, on the engine's BLAS-backed linear layer.
    func applyHead(_ features: Tensor) throws -> Tensor {
        let count = features.shape[0]
        guard features.count == count * head.inFeatures else {
            throw ExplainError.invalid("the graph gives features of shape \(features.shape) but the head expects "
                                       + "\(head.inFeatures) per image")
        }
        return try Ops.linear(features.reshaped([count, head.inFeatures]), head)
    }

    /// d(Σ_n logit[n, class_n]) / d(features) — row n is the head's weight row for class_n.
    func featureGradient(_ classes: [Int]) -> Tensor {
        let features = head.inFeatures
        var gradient = [Float](repeating: 0, count: classes.count * features)
        for (row, target) in classes.enumerated() {
            for q in 0..<features { gradient[row * features + q] = head.weight.data[target * features + q] }
        }
        return Tensor(shape: [classes.count, features], data: gradient)
    }

    func resolve(_ target: CAMTarget, _ logits: Tensor) throws -> [Int] {
        let images = logits.shape[0]
        let classCount = logits.shape[1]
        let classes: [Int]
        switch target {
        case .predicted:
            classes = (0..<images).map { image in
                let row = image * classCount
                var best = 0
                for j in 1..<max(classCount, 1) where logits.data[row + j] > logits.data[row + best] { best = j }
                return best
            }
        case .index(let target): classes = Array(repeating: target, count: images)
        case .indices(let targets):
            guard targets.count == images else {
                throw ExplainError.invalid("\(targets.count) target classes for \(images) images")
            }
            classes = targets
        }
        for target in classes where target < 0 || target >= classCount {
            throw ExplainError.classOutOfRange(target, classes: classCount)
        }
        return classes
    }
}
