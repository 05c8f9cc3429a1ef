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
    public let rule: VerdictRule
    public let maxPixels: Int

    public init(model: ModelFile, batchSize: Int = 32, precision: Precision = .fp32, maxPixels: Int = ImageCodec.defaultMaxPixels) throws {
        self.model = model
        backbone = try model.makeBackbone()
        session = try InferenceSession(graph: backbone.graph, batchSize: batchSize, precision: precision)
        self.maxPixels = maxPixels
        rule = model.metadata.rule ?? .singleScore(OODThreshold(score: OODScoreKind.msp.rawValue, value: 0))
        var unknown: OODThreshold?, unsure: OODThreshold?
        if case let .twoQuestions(u, s) = rule { unknown = u; unsure = s }
        info = ModelInfo(classes: model.metadata.classes, backbone: model.metadata.backbone, score: rule.thresholds[0].score,
                         threshold: rule.thresholds[0].value, unknown: unknown, unsure: unsure, metrics: model.metadata.metrics)
    }

    public static func load(path: String, batchSize: Int = 32, precision: Precision = .fp32) throws -> DiscernModelService {
        try DiscernModelService(model: try ModelFile.load(URL(fileURLWithPath: path)), batchSize: batchSize, precision: precision)
    }

    /// One forward pass on a blank image: the first pass builds oneDNN's primitives and touches every weight,
    /// so the server only reports ready once a request is answered at full speed.
    public func warmUp() throws {
        let s = model.metadata.imageSize
        _ = try predict(images: [RGBImage(width: s, height: s)], names: ["warm-up"])
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

    /// The rule in force: the model's, or the study's single-score rule when `score` is given (with `threshold`,
    /// or the score's own calibrated threshold stored in the model).
    public func rule(score: String?, threshold: Double?) throws -> VerdictRule {
        guard let score else {
            if let t = threshold {
                guard case let .singleScore(s) = rule else {
                    throw KitError.invalid("--threshold needs --score: this model asks two questions (\(rule.thresholds.map(\.score).joined(separator: ", ")))")
                }
                return .singleScore(OODThreshold(score: s.score, value: t))
            }
            return rule
        }
        guard let t = threshold ?? model.metadata.thresholds[score] else {
            throw KitError.invalid("score '\(score)' has no calibrated threshold in this model; give --threshold")
        }
        return .singleScore(OODThreshold(score: score, value: t))
    }

    /// Predictions with every OOD score and the verdict; `score`/`threshold` switch to the single-score rule.
    public func predict(images: [RGBImage], names: [String], score: String? = nil, threshold: Double? = nil) throws -> [Prediction] {
        guard !images.isEmpty else { return [] }
        let (logits, features) = try forward(images)
        return try predictions(logits: logits, features: features, names: names, score: score, threshold: threshold)
    }

    /// Predictions for a batch already decoded and made into the test-time tensor ([n, 3, s, s], n ≤ batchSize).
    public func predict(batch x: Tensor, names: [String], score: String? = nil, threshold: Double? = nil) throws
        -> [Prediction] {
        try predictions(features: try features(batch: x), names: names, score: score, threshold: threshold)
    }

    /// The backbone's penultimate features of a test-time batch ([n, 3, s, s], n ≤ batchSize).
    /// Every image's numbers are those it gets in any other batch: a lone image runs beside a copy of itself, so it
    /// takes the per-image inference streams like the others.
    public func features(batch x: Tensor) throws -> Tensor {
        let lone = x.shape[0] == 1 && session.batchSize > 1
        let features = try session.run(lone ? Tensor.concatBatch([x, x]) : x)
        guard lone else { return features }
        let width = features.shape[1]
        return Tensor(shape: [1, width], data: Array(features.data[0 ..< width]))
    }

    /// Predictions from `features(batch:)`: the head runs one row at a time (BLAS may add a row's products in
    /// another order depending on how many rows share the call), so no number depends on the batch.
    public func predictions(features: Tensor, names: [String], score: String? = nil, threshold: Double? = nil) throws
        -> [Prediction] {
        let width = features.shape[1]
        let rows = try (0 ..< features.shape[0]).map { row in
            let values = Array(features.data[row * width ..< (row + 1) * width])
            return try model.head.logits(Tensor(shape: [1, width], data: values))
        }
        return try predictions(logits: Tensor.concatBatch(rows), features: features, names: names, score: score,
                               threshold: threshold)
    }

    func predictions(logits: Tensor, features: Tensor, names: [String], score: String?, threshold: Double?) throws
        -> [Prediction] {
        let probs = Softmax.probabilities(logits)
        let c = logits.shape[1], classes = model.metadata.classes
        var all: [String: [Double]] = [:]
        if let d = model.detector { all = try d.allScores(logits: try Matrix(logits), features: try Matrix(features)) }
        else { all["msp"] = (0..<names.count).map { Double(probs.data[$0 * c ..< ($0 + 1) * c].max() ?? 0) } }
        let used = try rule(score: score, threshold: threshold)
        for t in used.thresholds where all[t.score] == nil {
            throw KitError.invalid("score '\(t.score)' is not available in this model (it has: \(all.keys.sorted().joined(separator: ", ")))")
        }
        return (0..<names.count).map { i in
            let p = Array(probs.data[i * c ..< (i + 1) * c]), l = Array(logits.data[i * c ..< (i + 1) * c])
            let best = p.indices.max { p[$0] < p[$1] } ?? 0
            let ood = all.mapValues { $0[i] }
            let verdict = used.verdict(ood)
            let (unknown, unsure) = used.evidence(ood)
            let deciding: Evidence
            switch verdict {
            case let .unknown(e), let .unsure(e): deciding = e
            case .accept: deciding = unsure ?? unknown!
            }
            return Prediction(path: names[i], label: classes[best],
                              scores: Dictionary(uniqueKeysWithValues: zip(classes, p.map(Double.init))),
                              logits: l.map(Double.init), ood: ood, verdict: verdict.kind, reason: verdict.reason,
                              score: deciding.score, threshold: deciding.threshold, unknown: unknown, unsure: unsure)
        }
    }

    /// Decodes on all cores (the server batches many requests into one call), then one forward pass.
    public func predict(_ inputs: [ImageInput]) async throws -> [Prediction] {
        var decoded = [Result<RGBImage, Error>?](repeating: nil, count: inputs.count)
        decoded.withUnsafeMutableBufferPointer { out in
            // Each iteration writes only its own element: no two threads touch the same memory.
            nonisolated(unsafe) let buf = out
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
