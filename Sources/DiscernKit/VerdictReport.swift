import Foundation
import DiscernRobustness
import DiscernReport

/// The verdict's part of report.html: the two questions and their thresholds, what they did on the test set,
/// `--shifted` and `--unknown` folders, and the trade-off chart of the verdict beside every single score.
enum VerdictReport {
    static func pct(_ x: Double) -> String { StudyReport.pct(x) }

    static func describe(_ rule: VerdictRule) -> [(String, String)] {
        switch rule {
        case let .twoQuestions(u, s):
            return [("is it any of my classes? (unknown)", String(format: "%@ ≥ %.6g", u.score, u.value)),
                    ("is my answer likely right? (unsure)", String(format: "%@ ≥ %.6g", s.score, s.value) +
                        (s.atypicalValue.map { v in String(format: "; %@ ≥ %.6g where %@ < %.6g", s.score, v, u.score,
                                                           s.atypicalBelow ?? .nan) } ?? ""))]
        case let .singleScore(t):
            return [("single-score rule (the study's)", String(format: "%@ ≥ %.6g", t.score, t.value))]
        }
    }

    static func add(_ r: inout HTMLReport, _ o: StudyOutcome, _ rob: RobustnessOutcome) {
        r.section("Two questions: unknown, unsure") { s in
            s.paragraph("Each prediction gets one of three verdicts. UNKNOWN: the image is not any trained class — its feature lies " +
                        "outside what photos of the trained classes look like (a feature-space score). UNSURE: it looks like a " +
                        "trained class but the answer is likely wrong (a confidence score). Otherwise ACCEPT. Both thresholds are " +
                        "set on the held-out training images together with shifted copies of them (recompressed, smaller, blurred, " +
                        "recoloured, cropped), so that photos of the same classes taken elsewhere are not called unknown; " +
                        "with --thumbnail-copies the unsure threshold also sees 24–40 px thumbnails of them, so that " +
                        "low-resolution errors count in its risk. No --unknown or --shifted folder is ever used for that.")
            let c = rob.calibration
            var kv = describe(rob.rule)
            kv.append(("calibrated on", "\(c.heldOut) held-out images (accuracy \(pct(c.heldOutAccuracy))) and \(c.shiftedCopies) shifted copies" +
                       (c.shiftedAccuracy.map { " (accuracy \(pct($0)))" } ?? "") +
                       "; the unsure question also on \(c.thumbnailCopies) thumbnail copies" +
                       (c.thumbnailAccuracy.map { " (accuracy \(pct($0)))" } ?? "") +
                       "; feature reference: \(c.reference) training features (clean and augmented views)"))
            kv.append(("targets", "unknown: at most \(pct(1 - o.options.acceptFraction)) of held-out photos (shifted included) called unknown" +
                       (o.options.calibrationConfidence.map { ", with \(Int($0 * 100))% confidence" } ?? "") +
                       "; unsure: at most \(pct(o.options.maxRisk)) errors among the accepted ones"))
            s.keyValues(kv)
            let reports = [rob.testShift] + rob.shifted
            s.table(headers: ["set", "images", "accuracy", "correct accepted", "errors flagged", "unknown", "unsure"],
                    rows: reports.map { t in
                        [t.name, "\(t.count)", pct(t.accuracy), pct(t.verdict.correctKept),
                         "\(Int((t.verdict.errorsFlagged * Double(t.errors)).rounded())) of \(t.errors) (\(pct(t.verdict.errorsFlagged)))",
                         pct(t.verdictShares[.unknown] ?? 0), pct(t.verdictShares[.unsure] ?? 0)]
                    } + rob.unknown.map { u in
                        [u.name + " (unknown set)", "\(u.count)", "–", "–", "–", pct(u.unknownFraction), pct(u.rejectedFraction - u.unknownFraction)]
                    }, caption: "Labelled sets: what share of the correct answers the verdict keeps and what share of the errors it flags " +
                        "(unknown or unsure). Unknown sets: the share called unknown and unsure.")
            for t in reports { s.figure(svg: chart(t, rob).svg(), caption: caption(t, rob)) }
        }
    }

    /// Bars per score (and the verdict first): correct kept and errors flagged on a labelled set, and the share
    /// of each unknown set rejected — each score at its own calibrated threshold.
    static func chart(_ t: ShiftReport, _ rob: RobustnessOutcome) -> BarChart {
        let names = OODScoreKind.allCases.map(\.rawValue).filter { t.byScore[$0] != nil }
        var style = ChartStyle(title: "Trade-off on '\(t.name)': the verdict and each score alone", xLabel: "", yLabel: "share")
        style.width = 1180; style.height = 440; style.yDomain = 0...1.3      // headroom for the legend
        var series: [(name: String, values: [Double])] = [
            ("correct kept", [t.verdict.correctKept] + names.map { t.byScore[$0]!.correctKept }),
            ("errors flagged", [t.verdict.errorsFlagged] + names.map { t.byScore[$0]!.errorsFlagged }),
        ]
        for u in rob.unknown {
            series.append(("'\(u.name)' rejected", [u.rejectedFraction] + names.map { u.rejectedFractionByScore[$0] ?? .nan }))
        }
        var chart = BarChart(style: style, categories: ["VERDICT"] + names, series: series)
        chart.valueLabels = false
        return chart
    }

    static func caption(_ t: ShiftReport, _ rob: RobustnessOutcome) -> String {
        "Higher is better for every bar. VERDICT = both questions together; each score alone uses its own threshold, calibrated " +
        "to accept \(pct(rob.thresholds.values.first?.targetAcceptance ?? 0)) of held-out (and shifted) photos. Test set '\(t.name)': " +
        "\(t.count) images, \(t.errors) errors."
    }
}
