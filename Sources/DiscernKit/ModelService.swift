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

    public init(model: ModelFile, batchSize: Int = 32, precision: Precision = .fp32,
                maxPixels: Int = ImageCodec.defaultMaxPixels) throws {
        self.model = model
        backbone = try model.makeBackbone()
        session = try InferenceSession(graph: backbone.graph, batchSize: batchSize, precision: precision)
        self.maxPixels = maxPixels
        let rule = model.metadata.rule ?? .singleScore(OODThreshold(score: .msp, value: 0))
        self.rule = rule
        var unknown: OODThreshold?
        var unsure: OODThreshold?
        if case let .twoQuestions(unknownThreshold, unsureThreshold) = rule {
            unknown = unknownThreshold
            unsure = unsureThreshold
        }
        info = ModelInfo(classes: model.metadata.classes, backbone: model.metadata.backbone,
                         score: rule.thresholds[0].score, threshold: rule.thresholds[0].value, unknown: unknown,
                         unsure: unsure, metrics: model.metadata.metrics)
    }

    public static func load(path: String, batchSize: Int = 32, precision: Precision = .fp32) throws
        -> DiscernModelService {
        let model = try ModelFile.load(URL(fileURLWithPath: path))
        return try DiscernModelService(model: model, batchSize: batchSize, precision: precision)
    }

    /// One forward pass on a blank image: the first pass builds oneDNN's primitives and touches every weight,
    /// so the server only reports ready once a request is answered at full speed.
    public func warmUp() throws {
        let size = model.metadata.imageSize
        _ = try predict(images: [RGBImage(width: size, height: size)], names: ["warm-up"])
    }

    /// The test-time input: Resize((s, s)) + Normalize, as in training.
    public func tensor(_ image: RGBImage) -> Tensor {
        ModelInput(metadata: model.metadata).tensor(image)
    }

    public func decode(_ input: ImageInput) throws -> RGBImage {
        do {
            return try ImageCodec.decode(input.bytes, name: input.name, maxPixels: maxPixels)
        } catch let error as VisionError {
            throw ServiceError.from(error, name: input.name)
        }
    }

    /// Logits and penultimate features of decoded images, in batches of the session's size.
    public func forward(_ images: [RGBImage]) throws -> (logits: Tensor, features: Tensor) {
        var batches: [Tensor] = []
        var start = 0
        while start < images.count {
            let end = min(start + session.batchSize, images.count)
            batches.append(try session.run(Tensor.concatBatch(images[start..<end].map(tensor))))
            start = end
        }
        let features = Tensor.concatBatch(batches)
        return (try model.head.logits(features), features)
    }

    /// The rule in force: the model's, or the study's single-score rule when `score` is given (with `threshold`,
    /// or the score's own calibrated threshold stored in the model).
    public func rule(score: OODScoreKind?, threshold: Double?) throws -> VerdictRule {
        guard let score else {
            guard let threshold else { return rule }
            guard case let .singleScore(single) = rule else {
                let questions = rule.thresholds.map(\.score.rawValue).joined(separator: ", ")
                throw KitError.invalid("--threshold needs --score: this model asks two questions (\(questions))")
            }
            return .singleScore(OODThreshold(score: single.score, value: threshold))
        }
        guard let value = threshold ?? model.metadata.thresholds[score] else {
            throw KitError.invalid(
                "score '\(score.rawValue)' has no calibrated threshold in this model; give --threshold")
        }
        return .singleScore(OODThreshold(score: score, value: value))
    }

    /// Predictions with every OOD score and the verdict; `score`/`threshold` switch to the single-score rule.
    public func predict(images: [RGBImage], names: [String], score: OODScoreKind? = nil, threshold: Double? = nil)
        throws -> [Prediction] {
        guard !images.isEmpty else { return [] }
        let (logits, features) = try forward(images)
        return try predictions(logits: logits, features: features, names: names,
                               sourceSizes: images.map(PixelSize.init), score: score, threshold: threshold)
    }

    /// Predictions for a batch already decoded and made into the test-time tensor ([n, 3, s, s], n ≤ batchSize);
    /// `sourceSizes` are the images' decoded sizes (nil: not known, no low-resolution threshold).
    public func predict(batch x: Tensor, names: [String], sourceSizes: [PixelSize]?, score: OODScoreKind? = nil,
                        threshold: Double? = nil) throws -> [Prediction] {
        try predictions(features: try features(batch: x), names: names, sourceSizes: sourceSizes, score: score,
                        threshold: threshold)
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
    public func predictions(features: Tensor, names: [String], sourceSizes: [PixelSize]?, score: OODScoreKind? = nil,
                            threshold: Double? = nil) throws -> [Prediction] {
        let width = features.shape[1]
        let rows = try (0 ..< features.shape[0]).map { row in
            let values = Array(features.data[row * width ..< (row + 1) * width])
            return try model.head.logits(Tensor(shape: [1, width], data: values))
        }
        return try predictions(logits: Tensor.concatBatch(rows), features: features, names: names,
                               sourceSizes: sourceSizes, score: score, threshold: threshold)
    }

    func predictions(logits: Tensor, features: Tensor, names: [String], sourceSizes: [PixelSize]?,
                     score: OODScoreKind?, threshold: Double?) throws -> [Prediction] {
        guard sourceSizes == nil || sourceSizes?.count == names.count else {
            throw KitError.invalid("\(sourceSizes?.count ?? 0) image sizes for \(names.count) images")
        }
        let probabilities = Softmax.probabilities(logits)
        let classCount = logits.shape[1]
        let classes = model.metadata.classes
        var scores: [OODScoreKind: [Double]] = [:]
        if let detector = model.detector {
            scores = try detector.allScores(logits: try Matrix(logits), features: try Matrix(features))
        } else {
            scores[.msp] = (0..<names.count).map { row in
                Double(probabilities.data[row * classCount ..< (row + 1) * classCount].max() ?? 0)
            }
        }
        let used = try rule(score: score, threshold: threshold)
        for threshold in used.thresholds where scores[threshold.score] == nil {
            let available = scores.keys.map(\.rawValue).sorted().joined(separator: ", ")
            throw KitError.invalid(
                "score '\(threshold.score.rawValue)' is not available in this model (it has: \(available))")
        }
        return try (0..<names.count).map { row in
            let rowRange = row * classCount ..< (row + 1) * classCount
            let rowProbabilities = Array(probabilities.data[rowRange])
            let best = rowProbabilities.indices.max { rowProbabilities[$0] < rowProbabilities[$1] } ?? 0
            let ood = scores.mapValues { $0[row] }
            let size = sourceSizes?[row]
            let verdict = used.verdict(ood, shortSide: size?.shortSide)
            let (unknown, unsure) = used.evidence(ood, shortSide: size?.shortSide)
            let deciding: Evidence
            switch verdict {
            case let .unknown(evidence), let .unsure(evidence):
                deciding = evidence
            case .accept:
                guard let evidence = unsure ?? unknown else {
                    throw KitError.invalid("the verdict rule gave no evidence for \(names[row])")
                }
                deciding = evidence
            }
            let classScores = Dictionary(uniqueKeysWithValues: zip(classes, rowProbabilities.map(Double.init)))
            return Prediction(path: names[row], label: classes[best], scores: classScores,
                              logits: logits.data[rowRange].map(Double.init), ood: ood, verdict: verdict.kind,
                              reason: verdict.reason, score: deciding.score, threshold: deciding.threshold,
                              unknown: unknown, unsure: unsure, sourceSize: size)
        }
    }

    /// Decodes on all cores (the server batches many requests into one call), then one forward pass.
    public func predict(_ inputs: [ImageInput]) async throws -> [Prediction] {
        var decoded = [Result<RGBImage, Error>?](repeating: nil, count: inputs.count)
        decoded.withUnsafeMutableBufferPointer { out in
            // Each iteration writes only its own element: no two threads touch the same memory.
            nonisolated(unsafe) let slots = out
            DispatchQueue.concurrentPerform(iterations: inputs.count) { index in
                slots[index] = Result { try self.decode(inputs[index]) }
            }
        }
        let images = try decoded.enumerated().map { index, result in
            guard let result else { throw ServiceError.badRequest("\(inputs[index].name): not decoded") }
            return try result.get()
        }
        return try predict(images: images, names: inputs.map(\.name))
    }
}

extension ServiceError {
    /// Decoder failures mapped to what the client did wrong.
    static func from(_ error: VisionError, name: String) -> ServiceError {
        switch error {
        case .tooManyPixels: return .tooManyPixels(name: name, reason: error.problem)
        case .notAnImage, .unsupportedFormat: return .unsupportedImage(name: name, reason: error.problem)
        case .invalidArgument: return .badRequest("\(error)")
        default: return .corruptImage(name: name, reason: error.problem)
        }
    }
}
