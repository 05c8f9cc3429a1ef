import Foundation
import DiscernVision
import DiscernRobustness

extension DiscernModelService {
    /// Predicts image files; unreadable ones are returned as one-line failures, not thrown.
    /// `score` (with `threshold`, or its calibrated one) switches to the study's single-score rule.
    public func predictFiles(_ paths: [String], score: OODScoreKind? = nil, threshold: Double? = nil) throws
        -> ([Prediction], [String]) {
        var images: [RGBImage] = []
        var names: [String] = []
        var failures: [String] = []
        for path in paths {
            do {
                images.append(try ImageCodec.decodeFile(path, maxPixels: maxPixels))
                names.append(path)
            } catch {
                failures.append("\(error)")
            }
        }
        return (try predict(images: images, names: names, score: score, threshold: threshold), failures)
    }
}

/// The terminal table of `discern predict`: label, probabilities, verdict with its reason, then every OOD score.
public enum PredictionTableText {
    public static func render(_ predictions: [Prediction], classes: [String]) -> String {
        guard let first = predictions.first else { return "(no predictions)" }
        let asked = [first.unknown?.score, first.unsure?.score].compactMap { $0 }
        let oodScores = first.ood.keys.sorted { $0.rawValue < $1.rawValue }.filter { !asked.contains($0) }
        var header = ["image", "label"] + classes.map { "p(\($0))" } + ["verdict"]
        if let unknown = first.unknown { header.append("unknown? \(unknown.score.rawValue)") }
        if let unsure = first.unsure { header.append("unsure? \(unsure.score.rawValue)") }
        header += oodScores.map(\.rawValue) + ["reason"]
        var rows: [[String]] = [header]
        func cell(_ evidence: Evidence?) -> String? {
            evidence.map { String(format: "%.4g %@ %.4g", $0.value, $0.passes ? "≥" : "<", $0.threshold) }
        }
        for prediction in predictions {
            var row = [URL(fileURLWithPath: prediction.path).lastPathComponent, prediction.label]
            row += classes.map { String(format: "%.3f", prediction.scores[$0] ?? 0) }
            row.append(prediction.verdict.rawValue.uppercased())
            row += [cell(prediction.unknown), cell(prediction.unsure)].compactMap { $0 }
            row += oodScores.map { String(format: "%.4g", prediction.ood[$0] ?? .nan) }
            row.append(prediction.reason)
            rows.append(row)
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        // Every column padded to its widest cell but the last (the reason), which is left as it is.
        return rows.map { row in
            row.enumerated().map { column, text in
                text.padding(toLength: column == row.count - 1 ? text.count : widths[column], withPad: " ",
                             startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
