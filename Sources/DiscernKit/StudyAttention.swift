import Foundation
import DiscernEngine
import DiscernModels
import DiscernTraining
import DiscernExplain
import DiscernReport

/// Grad-CAM over the test set: attention areas of every image, overlays for every error, and the
/// study's claim (apparent errors attend to larger areas than understandable ones) put to a test.
public struct AttentionOutcome: Sendable {
    public var method: String
    public var layer: String
    public var threshold: Double
    public var areas: [Double]                     // per test image, in table order
    public var analysis: AttentionAnalysis
    public var errorCells: [(path: String, overlayPNG: [UInt8], caption: String, area: Double)]

    static func compute(_ o: StudyOutcome, backbone: Backbone, head: LinearHead, options: StudyOptions, out: OutputFolder) throws -> AttentionOutcome {
        throw KitError.invalid("explanations are not wired yet")
    }

    func metrics() throws -> [String: Any] {
        var m = try StudyMetrics.json(analysis) as? [String: Any] ?? [:]
        m["method"] = method; m["layer"] = layer; m["threshold"] = threshold
        m["median_area_all"] = areas.sorted()[areas.count / 2]
        return m
    }
}

enum AttentionReport {
    static func add(_ r: inout HTMLReport, _ o: StudyOutcome, _ a: AttentionOutcome) {}
}

extension DiscernModelService {
    public func explain(_ image: ImageInput, method: String, layer: String?, className: String?) async throws -> Explanation {
        throw KitError.invalid("explanations are not wired yet")
    }
    public func explainFile(_ path: String, method: String, layer: String?, className: String?, out: String) throws -> Explanation {
        throw KitError.invalid("explanations are not wired yet")
    }
}
