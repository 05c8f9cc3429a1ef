import Foundation
import DiscernEngine
import DiscernTraining
import DiscernWeights

/// Writes a run's files: per-image tables, training history, metrics.json and report.html,
/// each atomically (temporary file, then rename).
enum StudyWriter {
    static func write(_ o: StudyOutcome, to out: OutputFolder) throws {
        let tables = try out.folder("predictions")
        for set in [o.train, o.test] + (o.validation.map { [$0] } ?? []) {
            guard let t = set.table else { continue }
            try t.writeCSV(to: tables.appendingPathComponent("\(set.name).csv"))
            try t.writeJSON(to: tables.appendingPathComponent("\(set.name).json"))
        }
        try AtomicFile.write(Data(o.history.csv().utf8), to: out.url("history.csv"))
        if !o.skipped.isEmpty {
            try AtomicFile.write(Data(o.skipped.map { "\($0.path)\t\($0.reason)" }.joined(separator: "\n").utf8 + [10]), to: out.url("skipped.txt"))
        }
        try AtomicFile.write(try StudyMetrics.data(o), to: out.url("metrics.json"))
        let report = try StudyReport.build(o)
        try report.write(to: out.url("report.html"))
        Study.log(String(format: "peak memory %.0f MB; report: %@", StudyMetrics.peakResidentMB(), out.url("report.html").path))
    }
}
