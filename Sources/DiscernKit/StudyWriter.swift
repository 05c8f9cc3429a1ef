import Foundation
import DiscernEngine
import DiscernTraining
import DiscernWeights

/// Writes a run's files: per-image tables, training history, metrics.json and report.html,
/// each atomically (temporary file, then rename).
enum StudyWriter {
    static func write(_ outcome: StudyOutcome, to out: OutputFolder) throws {
        let tables = try out.folder("predictions")
        for set in [outcome.train, outcome.test] + (outcome.validation.map { [$0] } ?? []) {
            try set.table.writeCSV(to: tables.appendingPathComponent("\(set.name).csv"))
            try set.table.writeJSON(to: tables.appendingPathComponent("\(set.name).json"))
        }
        try AtomicFile.write(Data(outcome.history.csv().utf8), to: out.url("history.csv"))
        if !outcome.skipped.isEmpty {
            let lines = outcome.skipped.map { "\($0.path)\t\($0.reason)" }.joined(separator: "\n")
            try AtomicFile.write(Data(lines.utf8 + [10]), to: out.url("skipped.txt"))
        }
        try AtomicFile.write(try StudyMetrics.data(outcome), to: out.url("metrics.json"))
        try StudyReport.build(outcome).write(to: out.url("report.html"))
        Study.log(String(format: "peak memory %.0f MB; report: %@", StudyMetrics.peakResidentMB(),
                         out.url("report.html").path))
    }
}
