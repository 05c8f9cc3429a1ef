import Foundation
import DiscernRobustness
import DiscernReport

/// The verdict's part of report.html: the two questions and their thresholds, what they did on the test set,
/// `--shifted` and `--unknown` folders, and the trade-off chart of the verdict beside every single score.
enum VerdictReport {
    static func percent(_ share: Double) -> String { StudyReport.percent(share) }

    static func describe(_ rule: VerdictRule) -> [(String, String)] {
        switch rule {
        case let .twoQuestions(unknown, unsure):
            let atypical = unsure.atypicalValue.map { value in
                String(format: "; %@ ≥ %.6g where %@ < %.6g", unsure.score.rawValue, value, unknown.score.rawValue,
                       unsure.atypicalBelow ?? .nan)
            } ?? ""
            let lowResolution = unsure.lowResolutionValue.map { value in
                String(format: "; %@ ≥ %.6g on photos under %d px (the shorter side)", unsure.score.rawValue, value,
                       unsure.lowResolutionBelow ?? 0)
            } ?? ""
            return [("is it any of my classes? (unknown)",
                     String(format: "%@ ≥ %.6g", unknown.score.rawValue, unknown.value)),
                    ("is my answer likely right? (unsure)",
                     String(format: "%@ ≥ %.6g", unsure.score.rawValue, unsure.value) + atypical + lowResolution)]
        case let .singleScore(threshold):
            let rule = String(format: "%@ ≥ %.6g", threshold.score.rawValue, threshold.value)
            return [("single-score rule (the study's)", rule)]
        }
    }

    static func add(_ report: inout HTMLReport, _ outcome: StudyOutcome, _ robustness: RobustnessOutcome) {
        let options = outcome.options
        report.section("Two questions: unknown, unsure") { section in
            section.paragraph("Each prediction gets one of three verdicts. UNKNOWN: the image is not any trained "
                + "class — its feature lies outside what photos of the trained classes look like (a feature-space "
                + "score). UNSURE: it looks like a trained class but the answer is likely wrong (a confidence "
                + "score). Otherwise ACCEPT. Both thresholds are set on the held-out training images together with "
                + "shifted copies of them (recompressed, smaller, blurred, recoloured, cropped), so that photos of "
                + "the same classes taken elsewhere are not called unknown. Low-resolution photos (shorter side "
                + "under half the network's input) are wrong far more often at the same confidence, so they get an "
                + "unsure threshold of their own, set on 24–40 px thumbnail copies of the held-out images. "
                + "No --unknown or --shifted folder is ever used for that.")
            let calibration = robustness.calibration
            var rows = describe(robustness.rule)
            rows.append(("calibrated on", "\(calibration.heldOut) held-out images (accuracy "
                         + "\(percent(calibration.heldOutAccuracy))) and \(calibration.shiftedCopies) shifted copies"
                         + (calibration.shiftedAccuracy.map { " (accuracy \(percent($0)))" } ?? "")
                         + "; the unsure question also on \(calibration.thumbnailCopies) thumbnail copies"
                         + (calibration.thumbnailAccuracy.map { " (accuracy \(percent($0)))" } ?? "")
                         + (calibration.lowResolutionBelow > 0
                            ? "; \(calibration.lowResolutionImages) images under \(calibration.lowResolutionBelow) px "
                              + "that the unknown question lets through (thumbnail copies and small held-out photos) "
                              + "set the low-resolution threshold" : "")
                         + "; feature reference: \(calibration.reference) training features (clean and augmented "
                         + "views)"))
            rows.append(("targets", "unknown: at most \(percent(1 - options.acceptFraction)) of held-out photos "
                         + "(shifted included) called unknown"
                         + (options.calibrationConfidence.map { ", with \(Int($0 * 100))% confidence" } ?? "")
                         + "; unsure: at most \(percent(options.maxRisk)) errors among the accepted ones"))
            section.keyValues(rows)
            let reports = [robustness.testShift] + robustness.shifted
            let labelledRows = reports.map { shift in
                let flagged = Int((shift.verdict.errorsFlagged * Double(shift.errors)).rounded())
                return [shift.name, "\(shift.count)", percent(shift.accuracy), percent(shift.verdict.correctKept),
                        "\(flagged) of \(shift.errors) (\(percent(shift.verdict.errorsFlagged)))",
                        percent(shift.verdictShares[.unknown] ?? 0), percent(shift.verdictShares[.unsure] ?? 0)]
            }
            let unknownRows = robustness.unknown.map { unknown in
                [unknown.name + " (unknown set)", "\(unknown.count)", "–", "–", "–",
                 percent(unknown.unknownFraction), percent(unknown.rejectedFraction - unknown.unknownFraction)]
            }
            section.table(headers: ["set", "images", "accuracy", "correct accepted", "errors flagged", "unknown",
                                    "unsure"],
                          rows: labelledRows + unknownRows,
                          caption: "Labelled sets: what share of the correct answers the verdict keeps and what "
                              + "share of the errors it flags (unknown or unsure). Unknown sets: the share called "
                              + "unknown and unsure.")
            for shift in reports {
                section.figure(svg: chart(shift, robustness).svg(), caption: caption(shift, robustness))
            }
        }
    }

    /// Bars per score (and the verdict first): correct kept and errors flagged on a labelled set, and the share
    /// of each unknown set rejected — each score at its own calibrated threshold.
    static func chart(_ shift: ShiftReport, _ robustness: RobustnessOutcome) -> BarChart {
        let scored = OODScoreKind.allCases.compactMap { kind in
            shift.byScore[kind].map { (kind: kind, tradeoff: $0) }
        }
        var style = ChartStyle(title: "Trade-off on '\(shift.name)': the verdict and each score alone", xLabel: "",
                               yLabel: "share")
        style.width = 1180
        style.height = 440
        style.yDomain = 0...1.3      // headroom for the legend
        var series: [(name: String, values: [Double])] = [
            ("correct kept", [shift.verdict.correctKept] + scored.map(\.tradeoff.correctKept)),
            ("errors flagged", [shift.verdict.errorsFlagged] + scored.map(\.tradeoff.errorsFlagged)),
        ]
        for unknown in robustness.unknown {
            let byScore = scored.map { unknown.rejectedFractionByScore[$0.kind] ?? .nan }
            series.append(("'\(unknown.name)' rejected", [unknown.rejectedFraction] + byScore))
        }
        var chart = BarChart(style: style, categories: ["VERDICT"] + scored.map(\.kind.rawValue),
                             series: series)
        chart.valueLabels = false
        return chart
    }

    static func caption(_ shift: ShiftReport, _ robustness: RobustnessOutcome) -> String {
        let target = percent(robustness.thresholds.values.first?.targetAcceptance ?? 0)
        return "Higher is better for every bar. VERDICT = both questions together; each score alone uses its own "
            + "threshold, calibrated to accept \(target) of held-out (and shifted) photos. Test set "
            + "'\(shift.name)': \(shift.count) images, \(shift.errors) errors."
    }
}
