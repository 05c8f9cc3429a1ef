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
        public let path: String
        /// The CAM overlay on the photo, as written to `<name>.cam.png`.
        public let overlayPNG: [UInt8]
        public let caption: String
        public let detail: String
        public let area: Double
    }
    public let method: CAMMethod
    public let layer: String
    public let threshold: Double
    /// Per test image, in table order.
    public let areas: [Double]
    /// Softmax of the explained (predicted) class.
    public let confidences: [Double]
    public let correct: [Bool]
    public let analysis: AttentionAnalysis
    public let errorCells: [ErrorCell]
    public let outputFolder: String
    /// Explaining time over forward time for one batch (a Grad-CAM costs about one forward).
    public let costRatio: Double?
    /// Score-CAM only: the masked forwards per image (nil: every channel of the layer).
    public let scoreCAMChannels: Int?

    /// Errors scoring above this are the study's "apparent" errors; below, "understandable".
    static let apparentSplit = 0.7

    /// Explains every test image for its predicted class and writes the errors' files into `out/explain`.
    /// `forwardSeconds`: the evaluation's time per image, against which the explanations' cost is given.
    static func compute(test: LabelledSet, classes: [String], forwardSeconds: Double, backbone: Backbone,
                        head: LinearParams, options: StudyOptions, out: OutputFolder,
                        progress: any ProgressReporter) throws -> AttentionOutcome {
        let method = options.camMethod
        let explainer = try CAMExplainer(backbone: backbone, head: head, layer: options.camLayer, method: method)
        explainer.scoreCAMChannels = options.scoreCAMChannels
        let rows = test.table.rows
        let folder = try out.folder("explain")
        let size = backbone.inputSize
        let task = progress.start("Grad-CAM (test)", total: rows.count)
        var areas = [Double](repeating: .nan, count: rows.count)
        var cells: [ErrorCell] = []
        let batchSize = 16
        var explainSeconds = 0.0
        // Decoding and transforms run ahead on the prefetching loader, as for the features.
        let rowOfPath = Dictionary(rows.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { first, _ in first })
        let input = ModelInput(backbone: backbone)
        let loader = try BatchLoader(samples: rows.map { ImageFolder.Sample(path: $0.path, label: $0.trueLabel) },
                                     transform: input.evaluation,
                                     options: input.loaderOptions(batchSize: batchSize, shuffle: false))
        for loaded in loader.epoch(0) {
            let planned = min(batchSize, rows.count - loaded.index * batchSize)
            let kept = loaded.paths.compactMap { rowOfPath[$0] }
            guard !kept.isEmpty, kept.count == loaded.paths.count else {
                task.advance(planned)
                continue
            }
            let start = Date()
            let result = try explainer.explain(loaded.images, target: .indices(kept.map { rows[$0].predicted }))
            // Guided backprop (the full autograd executor) only for the errors, whose overlays the report shows.
            let errorPositions = kept.indices.filter { !rows[kept[$0]].correct }
            var guided: [Int: Tensor] = [:]
            if method.needsGradients && !errorPositions.isEmpty {
                let errorInput = Tensor.concatBatch(errorPositions.map { loaded.images.item($0) })
                let errorTarget = CAMTarget.indices(errorPositions.map { rows[kept[$0]].predicted })
                let gradients = try explainer.guidedBackprop(errorInput, target: errorTarget).gradient
                for (index, position) in errorPositions.enumerated() {
                    guided[position] = Tensor(shape: [3, size, size], data: gradients.item(index).data)
                }
            }
            explainSeconds += Date().timeIntervalSince(start)
            let batchAreas = try AttentionArea.fractions(result.maps.input,
                                                         threshold: Float(options.attentionThreshold))
            for (position, row) in kept.enumerated() {
                areas[row] = batchAreas[position]
                guard !rows[row].correct, let image = try? ImageCodec.decodeFile(rows[row].path) else { continue }
                let name = URL(fileURLWithPath: rows[row].path).deletingPathExtension().lastPathComponent
                let written = try ExplanationWriter.write(
                    name: name, to: folder, original: image, camInput: result.maps.input.item(position),
                    camFeature: result.maps.feature.item(position), guided: guided[position])
                let trueClass = classes[rows[row].trueLabel]
                cells.append(ErrorCell(
                    path: rows[row].path, overlayPNG: written.overlayPNG,
                    caption: Captions.softmax(rows[row].probabilities, classes: classes),
                    detail: String(format: "%@ (true %@), area %.2f", name, trueClass, batchAreas[position]),
                    area: batchAreas[position]))
            }
            task.advance(planned)
        }
        task.finish()
        let confidences = rows.map { Double($0.probabilities[$0.predicted]) }
        let samples = rows.indices.filter { areas[$0].isFinite }.map {
            AttentionAnalysis.Sample(area: areas[$0], score: confidences[$0], correct: rows[$0].correct)
        }
        let analysis = AttentionAnalysis(samples: samples, threshold: options.attentionThreshold,
                                         scoreSplit: apparentSplit)
        Study.log("attention: \(analysis.verdict)")
        return AttentionOutcome(
            method: method, layer: explainer.layer, threshold: options.attentionThreshold, areas: areas,
            confidences: confidences, correct: rows.map(\.correct), analysis: analysis, errorCells: cells,
            outputFolder: folder.path,
            costRatio: forwardSeconds > 0 ? explainSeconds / Double(rows.count) / forwardSeconds : nil,
            scoreCAMChannels: method == .scorecam ? explainer.scoreCAMChannels : nil)
    }

    func metrics() throws -> [String: Any] {
        var metrics: [String: Any] = [
            "method": method.rawValue, "layer": layer, "threshold": threshold,
            "apparent_split": AttentionOutcome.apparentSplit, "verdict": analysis.verdict,
            "images": areas.filter(\.isFinite).count, "errors_explained": errorCells.count,
        ]
        func group(_ group: AttentionAnalysis.Group) -> [String: Any] {
            ["n": group.count, "median_area": group.medianArea as Any]
        }
        metrics["correct"] = group(analysis.correct)
        metrics["apparent"] = group(analysis.apparent)
        metrics["understandable"] = group(analysis.understandable)
        if let test = analysis.apparentVsUnderstandable {
            metrics["apparent_vs_understandable"] = ["u": test.u, "p": test.p, "exact": test.exact]
        }
        if let test = analysis.errorsVsCorrect {
            metrics["errors_vs_correct"] = ["u": test.u, "p": test.p, "exact": test.exact]
        }
        if let ratio = costRatio { metrics["cost_vs_forward"] = ratio }
        if method == .scorecam { metrics["score_cam_channels"] = scoreCAMChannels.map { $0 as Any } ?? "all" }
        return metrics
    }
}
