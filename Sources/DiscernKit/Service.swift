import DiscernExplain
import DiscernRobustness
import DiscernVision

/// What the CLI's `predict`/`explain` and the HTTP server share: one loaded model answering
/// batched prediction and explanation requests. `DiscernModelService` (Kit) is the real one.

public struct ImageInput: Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// One image's answer; the JSON shape of `discern predict --json` and `POST /v1/predict`.
public struct Prediction: Codable, Sendable, Equatable {
    public var path: String
    public var label: String
    /// Class name → softmax probability.
    public var scores: [String: Double]
    public var logits: [Double]
    /// Score → value (higher = more in-distribution); a JSON object keyed by the scores' names.
    public var ood: [OODScoreKind: Double]
    public var verdict: VerdictKind
    public var reason: String
    /// The score that decided (the one that flagged the image; for an accepted image the last one asked) and its
    /// threshold.
    public var score: OODScoreKind
    public var threshold: Double
    /// Each question's score, value and threshold (nil under the single-score rule for the question it does not ask).
    public var unknown: Evidence?
    public var unsure: Evidence?
    /// The image's size as decoded (what the low-resolution threshold looks at); nil when not known.
    public var sourceSize: PixelSize?
    public init(path: String, label: String, scores: [String: Double], logits: [Double], ood: [OODScoreKind: Double],
                verdict: VerdictKind, reason: String, score: OODScoreKind, threshold: Double, unknown: Evidence? = nil,
                unsure: Evidence? = nil, sourceSize: PixelSize? = nil) {
        self.path = path
        self.label = label
        self.scores = scores
        self.logits = logits
        self.ood = ood
        self.verdict = verdict
        self.reason = reason
        self.score = score
        self.threshold = threshold
        self.unknown = unknown
        self.unsure = unsure
        self.sourceSize = sourceSize
    }
}

public struct Explanation: Sendable {
    public var name: String
    public var className: String
    public var classIndex: Int
    public var method: CAMMethod
    public var layer: String
    /// Share of the pixels where the normalised CAM is at least 0.5.
    public var attentionArea: Double
    /// The heatmap's size: the photo's.
    public var width: Int
    public var height: Int
    /// Row-major, in [0, 1].
    public var heatmap: [Float]
    /// The jet overlay on the photo.
    public var overlayPNG: [UInt8]

    public init(name: String, className: String, classIndex: Int, method: CAMMethod, layer: String,
                attentionArea: Double, width: Int, height: Int, heatmap: [Float], overlayPNG: [UInt8]) {
        self.name = name
        self.className = className
        self.classIndex = classIndex
        self.method = method
        self.layer = layer
        self.attentionArea = attentionArea
        self.width = width
        self.height = height
        self.heatmap = heatmap
        self.overlayPNG = overlayPNG
    }
}

public struct ModelInfo: Codable, Sendable {
    public var classes: [String]
    public var backbone: String
    /// The first score the verdict asks (the unknown question's, or the single score) and its threshold.
    public var score: OODScoreKind
    public var threshold: Double
    /// The two questions' thresholds; nil under the study's single-score rule.
    public var unknown: OODThreshold?
    public var unsure: OODThreshold?
    public var metrics: [String: Double]
    public init(classes: [String], backbone: String, score: OODScoreKind, threshold: Double,
                unknown: OODThreshold? = nil, unsure: OODThreshold? = nil, metrics: [String: Double]) {
        self.classes = classes
        self.backbone = backbone
        self.score = score
        self.threshold = threshold
        self.unknown = unknown
        self.unsure = unsure
        self.metrics = metrics
    }
}

/// Errors a client caused; the server maps each to an HTTP status.
public enum ServiceError: Error, CustomStringConvertible, Sendable {
    /// HTTP 415.
    case unsupportedImage(name: String, reason: String)
    /// HTTP 422.
    case corruptImage(name: String, reason: String)
    /// HTTP 413.
    case tooManyPixels(name: String, reason: String)
    /// HTTP 400.
    case badRequest(String)

    public var description: String {
        switch self {
        case let .unsupportedImage(name, reason), let .corruptImage(name, reason), let .tooManyPixels(name, reason):
            return "\(name): \(reason)"
        case let .badRequest(message): return message
        }
    }
}

public protocol PredictionService: Sendable {
    var info: ModelInfo { get }
    /// Predicts a batch in one forward pass; throws ServiceError for bad input.
    func predict(_ images: [ImageInput]) async throws -> [Prediction]
    func explain(_ image: ImageInput, method: CAMMethod, layer: String?, className: String?) async throws
        -> Explanation
}
