import DiscernRobustness

/// What the CLI's `predict`/`explain` and the HTTP server share: one loaded model answering
/// batched prediction and explanation requests. `DiscernModelService` (Kit) is the real one.

public struct ImageInput: Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
}

/// One image's answer; the JSON shape of `discern predict --json` and `POST /v1/predict`.
public struct Prediction: Codable, Sendable, Equatable {
    public var path: String
    public var label: String
    public var scores: [String: Double]     // class name -> softmax probability
    public var logits: [Double]
    public var ood: [String: Double]        // score name -> value (higher = more in-distribution)
    public var verdict: VerdictKind         // accept | unknown | unsure
    public var reason: String
    /// The score that decided (the one that flagged the image; for an accepted image the last one asked) and its threshold.
    public var score: String
    public var threshold: Double
    /// Each question's score, value and threshold (nil under the single-score rule for the question it does not ask).
    public var unknown: Evidence?
    public var unsure: Evidence?
    public init(path: String, label: String, scores: [String: Double], logits: [Double], ood: [String: Double],
                verdict: VerdictKind, reason: String, score: String, threshold: Double, unknown: Evidence? = nil, unsure: Evidence? = nil) {
        self.path = path; self.label = label; self.scores = scores; self.logits = logits; self.ood = ood
        self.verdict = verdict; self.reason = reason; self.score = score; self.threshold = threshold
        self.unknown = unknown; self.unsure = unsure
    }
}

public struct Explanation: Sendable {
    public var name: String
    public var className: String
    public var classIndex: Int
    public var method: String
    public var layer: String
    public var attentionArea: Double        // fraction of pixels with normalised CAM >= tau
    public var width: Int, height: Int      // heatmap size = input image size
    public var heatmap: [Float]             // row-major, [0, 1]
    public var overlayPNG: [UInt8]          // jet overlay on the original image
    public init(name: String, className: String, classIndex: Int, method: String, layer: String, attentionArea: Double,
                width: Int, height: Int, heatmap: [Float], overlayPNG: [UInt8]) {
        self.name = name; self.className = className; self.classIndex = classIndex; self.method = method
        self.layer = layer; self.attentionArea = attentionArea; self.width = width; self.height = height
        self.heatmap = heatmap; self.overlayPNG = overlayPNG
    }
}

public struct ModelInfo: Codable, Sendable {
    public var classes: [String]
    public var backbone: String
    /// The first score the verdict asks (the unknown question's, or the single score) and its threshold.
    public var score: String
    public var threshold: Double
    /// The two questions' thresholds; nil under the study's single-score rule.
    public var unknown: OODThreshold?
    public var unsure: OODThreshold?
    public var metrics: [String: Double]
    public init(classes: [String], backbone: String, score: String, threshold: Double, unknown: OODThreshold? = nil,
                unsure: OODThreshold? = nil, metrics: [String: Double]) {
        self.classes = classes; self.backbone = backbone; self.score = score; self.threshold = threshold
        self.unknown = unknown; self.unsure = unsure; self.metrics = metrics
    }
}

/// Errors a client caused; the server maps each to an HTTP status.
public enum ServiceError: Error, CustomStringConvertible, Sendable {
    case unsupportedImage(name: String, reason: String)   // 415
    case corruptImage(name: String, reason: String)       // 422
    case tooManyPixels(name: String, reason: String)      // 413
    case badRequest(String)                               // 400

    public var description: String {
        switch self {
        case let .unsupportedImage(n, r), let .corruptImage(n, r), let .tooManyPixels(n, r): return "\(n): \(r)"
        case let .badRequest(m): return m
        }
    }
}

public protocol PredictionService: Sendable {
    var info: ModelInfo { get }
    /// Predicts a batch in one forward pass; throws ServiceError for bad input.
    func predict(_ images: [ImageInput]) async throws -> [Prediction]
    func explain(_ image: ImageInput, method: String, layer: String?, className: String?) async throws -> Explanation
}
