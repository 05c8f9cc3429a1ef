import Foundation
import DiscernVision

extension DiscernModelService {
    /// Predicts image files; unreadable ones are returned as one-line failures, not thrown.
    public func predictFiles(_ paths: [String], score: String? = nil, threshold: Double? = nil) throws -> ([Prediction], [String]) {
        var images: [RGBImage] = [], names: [String] = [], failures: [String] = []
        for p in paths {
            do { images.append(try ImageCodec.decodeFile(p, maxPixels: maxPixels)); names.append(p) } catch {
                failures.append("\(error)")
            }
        }
        return (try predict(images: images, names: names, score: score, threshold: threshold), failures)
    }
}

/// The terminal table of `discern predict`.
public enum PredictionTableText {
    public static func render(_ ps: [Prediction], classes: [String]) -> String {
        guard let first = ps.first else { return "(no predictions)" }
        let oodNames = first.ood.keys.sorted()
        var header = ["image", "label"] + classes.map { "p(\($0))" } + ["verdict", "\(first.score) vs threshold"]
        header += oodNames.filter { $0 != first.score }
        var rows: [[String]] = [header]
        for p in ps {
            var r = [URL(fileURLWithPath: p.path).lastPathComponent, p.label]
            r += classes.map { String(format: "%.3f", p.scores[$0] ?? 0) }
            r += [p.verdict.uppercased(), String(format: "%.4g %@ %.4g", p.ood[p.score] ?? .nan, p.verdict == "accept" ? "≥" : "<", p.threshold)]
            r += oodNames.filter { $0 != first.score }.map { String(format: "%.4g", p.ood[$0] ?? .nan) }
            rows.append(r)
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
            .joined(separator: "\n")
    }
}
