import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining
import DiscernExplain
import DiscernReport

/// Grad-CAM over the test set: the attention area of every image, overlays for every error, and the
/// study's claim (apparent errors attend to larger areas than understandable ones) put to a test.
public struct AttentionOutcome: Sendable {
    public struct ErrorCell: Sendable {
        public var path: String, overlayPNG: [UInt8], caption: String, detail: String, area: Double
    }
    public var method: String
    public var layer: String
    public var threshold: Double
    public var areas: [Double]                     // per test image, in table order
    public var confidences: [Double]               // softmax of the explained (predicted) class
    public var correct: [Bool]
    public var analysis: AttentionAnalysis
    public var errorCells: [ErrorCell]
    public var outputFolder: String
    /// Explaining time over forward time for one batch (a Grad-CAM costs about one forward).
    public var costRatio: Double?
    /// Score-CAM only: the masked forwards per image (nil: every channel of the layer).
    public var scoreCAMChannels: Int?

    /// Errors scoring above this are the study's "apparent" errors; below, "understandable".
    static let apparentSplit = 0.7

    static func compute(_ o: StudyOutcome, backbone: Backbone, head: LinearHead, options: StudyOptions, out: OutputFolder) throws -> AttentionOutcome {
        guard let method = CAMMethod(name: options.camMethod) else {
            throw KitError.invalid("--cam-method \(options.camMethod): use one of \(CAMMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let explainer = try CAMExplainer(backbone: backbone, head: LinearParams(weight: head.weight, bias: head.bias),
                                         layer: options.camLayer, method: method)
        explainer.scoreCAMChannels = options.scoreCAMChannels
        let rows = o.test.table!.rows
        let dir = try out.folder("explain")
        let s = backbone.inputSize
        let progress = Progress("Grad-CAM (test)", total: rows.count)
        var areas = [Double](repeating: .nan, count: rows.count)
        var cells: [ErrorCell] = []
        let batch = 16
        var explainSeconds = 0.0
        // Decoding and transforms run ahead on the prefetching loader, as for the features.
        let rowOfPath = Dictionary(rows.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { first, _ in first })
        let loader = try BatchLoader(
            samples: rows.map { ImageFolder.Sample(path: $0.path, label: $0.trueLabel) },
            transform: Compose.evaluation(size: s),
            options: .init(batchSize: batch, shuffle: false, prefetch: 2,
                           mean: backbone.normalization.mean, std: backbone.normalization.std))
        for loaded in loader.epoch(0) {
            let planned = min(batch, rows.count - loaded.index * batch)
            let kept = loaded.paths.compactMap { rowOfPath[$0] }
            guard !kept.isEmpty, kept.count == loaded.paths.count else { progress.advance(planned); continue }
            let t0 = Date()
            let target = CAMTarget.indices(kept.map { rows[$0].predicted })
            let result = try explainer.explain(loaded.images, target: target)
            // Guided backprop (the full autograd executor) only for the errors, whose overlays the report shows.
            let errorPositions = kept.indices.filter { !rows[kept[$0]].correct }
            var guided: [Int: Tensor] = [:]
            if method.needsGradients && !errorPositions.isEmpty {
                let errorInput = Tensor.concatBatch(errorPositions.map { loaded.images.item($0) })
                let errorTarget = CAMTarget.indices(errorPositions.map { rows[kept[$0]].predicted })
                let gradients = try explainer.guidedBackprop(errorInput, target: errorTarget).gradient
                for (k, position) in errorPositions.enumerated() {
                    guided[position] = Tensor(shape: [3, s, s], data: gradients.item(k).data)
                }
            }
            explainSeconds += Date().timeIntervalSince(t0)
            let a = try AttentionArea.fractions(result.maps.input, threshold: Float(options.attentionThreshold))
            for (j, i) in kept.enumerated() {
                areas[i] = a[j]
                guard !rows[i].correct, let img = try? ImageCodec.decodeFile(rows[i].path) else { continue }
                let name = URL(fileURLWithPath: rows[i].path).deletingPathExtension().lastPathComponent
                let hw = s * s, fh = result.maps.feature.shape[1], fw = result.maps.feature.shape[2]
                let camIn = Tensor(shape: [s, s], data: Array(result.maps.input.data[j * hw ..< (j + 1) * hw]))
                let camF = Tensor(shape: [fh, fw], data: Array(result.maps.feature.data[j * fh * fw ..< (j + 1) * fh * fw]))
                let written = try ExplanationWriter.write(name: name, to: dir, original: img, camInput: camIn,
                                                          camFeature: camF, guided: guided[j])
                let png = written.files.first { $0.lastPathComponent.hasSuffix(".cam.png") }.flatMap { try? Data(contentsOf: $0) }
                cells.append(ErrorCell(path: rows[i].path, overlayPNG: png.map { [UInt8]($0) } ?? [],
                                       caption: Captions.softmax(rows[i].probabilities, classes: o.classes),
                                       detail: String(format: "%@ (true %@), area %.2f", name, o.classes[rows[i].trueLabel], a[j]), area: a[j]))
            }
            progress.advance(planned)
        }
        progress.finish()
        let confidences = rows.map { Double($0.probabilities[$0.predicted]) }
        let samples = rows.indices.filter { areas[$0].isFinite }.map {
            AttentionAnalysis.Sample(area: areas[$0], score: confidences[$0], correct: rows[$0].correct)
        }
        let analysis = AttentionAnalysis(samples: samples, threshold: options.attentionThreshold, scoreSplit: apparentSplit)
        Study.log("attention: \(analysis.verdict)")
        let forwardSeconds = o.evalSeconds / Double(max(1, o.test.features.count + (o.validation?.features.count ?? 0) + o.unknown.reduce(0) { $0 + $1.features.count }))
        return AttentionOutcome(method: method.rawValue, layer: explainer.layer, threshold: options.attentionThreshold, areas: areas,
                                confidences: confidences, correct: rows.map(\.correct), analysis: analysis, errorCells: cells,
                                outputFolder: dir.path,
                                costRatio: forwardSeconds > 0 ? explainSeconds / Double(rows.count) / forwardSeconds : nil,
                                scoreCAMChannels: method == .scorecam ? explainer.scoreCAMChannels : nil)
    }

    func metrics() throws -> [String: Any] {
        var m: [String: Any] = ["method": method, "layer": layer, "threshold": threshold, "apparent_split": AttentionOutcome.apparentSplit,
                                "verdict": analysis.verdict, "images": areas.filter(\.isFinite).count, "errors_explained": errorCells.count]
        func group(_ g: AttentionAnalysis.Group) -> [String: Any] { ["n": g.count, "median_area": g.medianArea as Any] }
        m["correct"] = group(analysis.correct); m["apparent"] = group(analysis.apparent); m["understandable"] = group(analysis.understandable)
        if let c = analysis.apparentVsUnderstandable { m["apparent_vs_understandable"] = ["u": c.u, "p": c.p, "exact": c.exact] }
        if let c = analysis.errorsVsCorrect { m["errors_vs_correct"] = ["u": c.u, "p": c.p, "exact": c.exact] }
        if let r = costRatio { m["cost_vs_forward"] = r }
        if method == CAMMethod.scorecam.rawValue { m["score_cam_channels"] = scoreCAMChannels.map { $0 as Any } ?? "all" }
        return m
    }
}
