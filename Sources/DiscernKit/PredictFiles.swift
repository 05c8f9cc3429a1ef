import Foundation
import DiscernVision
import DiscernRobustness

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

/// The terminal table of `discern predict`: label, probabilities, verdict with its reason, then every OOD score.
public enum PredictionTableText {
    public static func render(_ ps: [Prediction], classes: [String]) -> String {
        guard let first = ps.first else { return "(no predictions)" }
        let asked = [first.unknown?.score, first.unsure?.score].compactMap { $0 }
        let oodNames = first.ood.keys.sorted().filter { !asked.contains($0) }
        var header = ["image", "label"] + classes.map { "p(\($0))" } + ["verdict"]
        if let u = first.unknown { header.append("unknown? \(u.score)") }
        if let s = first.unsure { header.append("unsure? \(s.score)") }
        header += oodNames + ["reason"]
        var rows: [[String]] = [header]
        func cell(_ e: Evidence?) -> String? {
            e.map { String(format: "%.4g %@ %.4g", $0.value, $0.passes ? "≥" : "<", $0.threshold) }
        }
        for p in ps {
            var r = [URL(fileURLWithPath: p.path).lastPathComponent, p.label]
            r += classes.map { String(format: "%.3f", p.scores[$0] ?? 0) }
            r.append(p.verdict.rawValue.uppercased())
            r += [cell(p.unknown), cell(p.unsure)].compactMap { $0 }
            r += oodNames.map { String(format: "%.4g", p.ood[$0] ?? .nan) }
            r.append(p.reason)
            rows.append(r)
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in
            r.enumerated().map { $1.padding(toLength: $0 == r.count - 1 ? $1.count : widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
