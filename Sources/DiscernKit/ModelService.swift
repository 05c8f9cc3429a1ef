import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining
import DiscernRobustness

/// A trained model file, loaded once, answering predictions (and explanations) for the CLI and the server.
public final class DiscernModelService: PredictionService, @unchecked Sendable {
    public let model: ModelFile
    public let backbone: Backbone
    public let session: InferenceSession
    public let info: ModelInfo
    public let maxPixels: Int

    public init(model: ModelFile, batchSize: Int = 32, precision: Precision = .fp32, maxPixels: Int = ImageCodec.defaultMaxPixels) throws {
        self.model = model
        backbone = try model.makeBackbone()
        session = try InferenceSession(graph: backbone.graph, batchSize: batchSize, precision: precision)
        self.maxPixels = maxPixels
        let t = model.metadata.threshold
        info = ModelInfo(classes: model.metadata.classes, backbone: model.metadata.backbone, score: t?.score ?? "msp",
                         threshold: t?.value ?? 0, metrics: model.metadata.metrics)
    }

    public static func load(path: String, batchSize: Int = 32, precision: Precision = .fp32) throws -> DiscernModelService {
        try DiscernModelService(model: try ModelFile.load(URL(fileURLWithPath: path)), batchSize: batchSize, precision: precision)
    }

    /// The test-time input: Resize((s, s)) + Normalize, as in training.
    public func tensor(_ image: RGBImage) -> Tensor {
        let s = model.metadata.imageSize
        let resized = Resize(height: s, width: s).apply(image)
        return toTensor(resized, mean: model.metadata.mean, std: model.metadata.std).reshaped([1, 3, s, s])
    }

    public func decode(_ input: ImageInput) throws -> RGBImage {
        do { return try ImageCodec.decode(input.bytes, name: input.name, maxPixels: maxPixels) } catch let e as VisionError {
            throw ServiceError.from(e, name: input.name)
        }
    }

    /// Logits and penultimate features of decoded images, in batches of the session's size.
    public func forward(_ images: [RGBImage]) throws -> (logits: Tensor, features: Tensor) {
        var feats: [Tensor] = []
        var start = 0
        while start < images.count {
            let end = min(start + session.batchSize, images.count)
            feats.append(try session.run(Tensor.concatBatch(images[start..<end].map(tensor))))
            start = end
        }
        let f = Tensor.concatBatch(feats)
        return (try model.head.logits(f), f)
    }

    /// Predictions with every OOD score and the verdict; `score`/`threshold` override the model's.
    public func predict(images: [RGBImage], names: [String], score: String? = nil, threshold: Double? = nil) throws -> [Prediction] {
        guard !images.isEmpty else { return [] }
        let (logits, features) = try forward(images)
        let probs = Softmax.probabilities(logits)
        let c = logits.shape[1], classes = model.metadata.classes
        var all: [String: [Double]] = [:]
        if let d = model.detector { all = try d.allScores(logits: try Matrix(logits), features: try Matrix(features)) }
        else { all["msp"] = (0..<images.count).map { Double(probs.data[$0 * c ..< ($0 + 1) * c].max() ?? 0) } }
        let usedScore = score ?? info.score
        guard let used = all[usedScore] else {
            throw KitError.invalid("score '\(usedScore)' is not available in this model (it has: \(all.keys.sorted().joined(separator: ", ")))")
        }
        let t = threshold ?? (score == nil ? info.threshold : (model.metadata.thresholds[usedScore] ?? info.threshold))
        return (0..<images.count).map { i in
            let p = Array(probs.data[i * c ..< (i + 1) * c]), l = Array(logits.data[i * c ..< (i + 1) * c])
            let best = p.indices.max { p[$0] < p[$1] } ?? 0
            return Prediction(path: names[i], label: classes[best],
                              scores: Dictionary(uniqueKeysWithValues: zip(classes, p.map(Double.init))),
                              logits: l.map(Double.init), ood: all.mapValues { $0[i] },
                              verdict: used[i] >= t ? "accept" : "reject", threshold: t, score: usedScore)
        }
    }

    /// Decodes on all cores (the server batches many requests into one call), then one forward pass.
    public func predict(_ inputs: [ImageInput]) async throws -> [Prediction] {
        var decoded = [Result<RGBImage, Error>?](repeating: nil, count: inputs.count)
        decoded.withUnsafeMutableBufferPointer { out in
            let buf = out
            DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
                buf[i] = Result { try self.decode(inputs[i]) }
            }
        }
        let images = try decoded.map { try $0!.get() }
        return try predict(images: images, names: inputs.map(\.name))
    }
}

extension ServiceError {
    /// Decoder failures mapped to what the client did wrong.
    static func from(_ e: VisionError, name: String) -> ServiceError {
        switch e {
        case .tooManyPixels: return .tooManyPixels(name: name, reason: "\(e)")
        case .notAnImage: return .unsupportedImage(name: name, reason: "\(e)")
        case .invalidArgument: return .badRequest("\(e)")
        default: return .corruptImage(name: name, reason: "\(e)")
        }
    }
}
