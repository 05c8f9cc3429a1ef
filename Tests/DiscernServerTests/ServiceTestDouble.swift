import DiscernExplain
import DiscernKit
import DiscernRobustness
import Foundation

/// TEST DOUBLE of `PredictionService` for router tests: no model. An "image" is a short ASCII
/// word; the word picks the answer or the ServiceError, so each route's mapping can be checked.
/// cat/dog -> accepted prediction of that class; flower -> unknown; corrupt -> 422;
/// unsupported -> 415; bomb -> 413 (too many pixels); slow -> waits (for the timeout test);
/// explode -> a non-client error (500).
final class ServiceTestDouble: PredictionService, @unchecked Sendable {
    static let unknown = OODThreshold(score: .knn, value: 0.5), unsure = OODThreshold(score: .msp, value: 0.55, targetRisk: 0.01)
    let info = ModelInfo(classes: ["cat", "dog"], backbone: "test-double", score: .knn, threshold: 0.5,
                         unknown: ServiceTestDouble.unknown, unsure: ServiceTestDouble.unsure, metrics: ["auroc": 0.99])
    private let lock = NSLock()
    private var _batchSizes: [Int] = []
    private var _explaining = 0, _maxConcurrentExplains = 0, _explainCalls = 0
    /// Most `explain` calls that were running at the same time.
    var maxConcurrentExplains: Int { lock.withLock { _maxConcurrentExplains } }
    /// How many `explain` calls reached the service.
    var explainCalls: Int { lock.withLock { _explainCalls } }
    /// Sizes of the `predict` calls received, in order.
    var batchSizes: [Int] { lock.withLock { _batchSizes } }

    static func expected(_ word: String, path: String) -> Prediction? {
        let classes = ["cat", "dog"]
        guard let k = ["cat": 0, "dog": 1, "flower": 0][word] else { return nil }
        let p = word == "flower" ? 0.6 : 0.9
        let knn = word == "flower" ? 0.2 : 0.8
        let u = Evidence(score: .knn, value: knn, threshold: 0.5), s = Evidence(score: .msp, value: p, threshold: 0.55)
        let verdict: Verdict = knn >= 0.5 ? .accept : .unknown(u)
        return Prediction(path: path, label: classes[k],
                          scores: [classes[k]: p, classes[1 - k]: 1 - p], logits: k == 0 ? [2, -1] : [-1, 2],
                          ood: [.knn: knn, .msp: p], verdict: verdict.kind, reason: verdict.reason,
                          score: verdict.isAccepted ? .msp : .knn, threshold: verdict.isAccepted ? 0.55 : 0.5, unknown: u, unsure: s)
    }

    private func check(_ image: ImageInput) async throws -> String {
        let word = String(decoding: image.bytes, as: UTF8.self)
        switch word {
        case "corrupt": throw ServiceError.corruptImage(name: image.name, reason: "JPEG data ends early")
        case "unsupported": throw ServiceError.unsupportedImage(name: image.name, reason: "not a JPEG or PNG")
        case "bomb": throw ServiceError.tooManyPixels(name: image.name, reason: "100000x100000 pixels")
        case "slow": try await Task.sleep(for: .seconds(5)); return "cat"
        case "explode": throw CocoaError(.fileReadNoPermission, userInfo: ["secret": "/internal/path"])
        default:
            guard Self.expected(word, path: "") != nil else {
                throw ServiceError.corruptImage(name: image.name, reason: "unknown test image")
            }
            return word
        }
    }

    func predict(_ images: [ImageInput]) async throws -> [Prediction] {
        lock.withLock { _batchSizes.append(images.count) }
        var out: [Prediction] = []
        for image in images { out.append(Self.expected(try await check(image), path: image.name)!) }
        return out
    }

    static let overlay: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4]

    func explain(_ image: ImageInput, method: CAMMethod, layer: String?, className: String?) async throws
        -> Explanation {
        lock.withLock {
            _explainCalls += 1
            _explaining += 1
            _maxConcurrentExplains = max(_maxConcurrentExplains, _explaining)
        }
        defer { lock.withLock { _explaining -= 1 } }
        let word = try await check(image)
        try await Task.sleep(for: .milliseconds(5))   // room for overlap if the server allowed it
        let cls = className ?? Self.expected(word, path: "")!.label
        guard let k = info.classes.firstIndex(of: cls) else { throw ServiceError.badRequest("unknown class \(cls)") }
        return Explanation(name: image.name, className: cls, classIndex: k, method: method, layer: layer ?? "_conv_head",
                           attentionArea: 0.25, width: 2, height: 2, heatmap: [0, 0.25, 0.5, 1], overlayPNG: Self.overlay)
    }
}
