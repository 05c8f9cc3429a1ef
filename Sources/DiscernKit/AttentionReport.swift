import Foundation
import DiscernReport
import DiscernExplain

/// The explanations part of report.html: a CAM for every error and the attention-area analysis.
enum AttentionReport {
    static func add(_ r: inout HTMLReport, _ o: StudyOutcome, _ a: AttentionOutcome) {
        r.section("Where the network looked") { s in
            s.paragraph("\(a.method) on layer \(a.layer), for the predicted class. Attention area = share of the image where the " +
                        "normalised map is at least \(a.threshold). Files (overlay PNG, maps as .npy, guided backprop) are in \(a.outputFolder).")
            if a.errorCells.isEmpty { s.note("No test image was misclassified.") }
            else {
                s.imageGrid(a.errorCells.map { ImageCell(bytes: $0.overlayPNG, caption: $0.caption, detail: $0.detail) }, columns: 5,
                            caption: "Every misclassified test image with its Grad-CAM overlay for the (wrong) predicted class.")
            }
            s.subheading("Do apparent errors look at larger areas?")
            s.paragraph("The study found that misclassifications that look absurd (high wrong-class score, \"apparent\") had larger " +
                        "attention areas than understandable ones. Apparent here: wrong-class softmax score ≥ \(AttentionOutcome.apparentSplit).")
            func med(_ g: AttentionAnalysis.Group) -> String { g.medianArea.map { String(format: "%.3f", $0) } ?? "–" }
            var rows = [["correct predictions", "\(a.analysis.correct.count)", med(a.analysis.correct)],
                        ["apparent errors (score ≥ \(AttentionOutcome.apparentSplit))", "\(a.analysis.apparent.count)", med(a.analysis.apparent)],
                        ["understandable errors", "\(a.analysis.understandable.count)", med(a.analysis.understandable)]]
            if let c = a.analysis.apparentVsUnderstandable {
                rows.append(["Mann–Whitney, apparent vs understandable", String(format: "U = %.1f", c.u), String(format: "p = %.3g%@", c.p, c.exact ? " (exact)" : "")])
            }
            if let c = a.analysis.errorsVsCorrect {
                rows.append(["Mann–Whitney, errors vs correct", String(format: "U = %.1f", c.u), String(format: "p = %.3g", c.p)])
            }
            s.table(headers: ["group", "images", "median attention area"], rows: rows)
            s.note(a.analysis.verdict)
            var groups = ["correct", "apparent error", "understandable error"]
            var pts: [ScatterChart.Point] = []
            for i in a.areas.indices where a.areas[i].isFinite {
                let g = a.correct[i] ? 0 : (a.confidences[i] >= AttentionOutcome.apparentSplit ? 1 : 2)
                pts.append(.init(x: a.confidences[i], y: a.areas[i], group: g))
            }
            groups = groups.map { $0 }
            var sc = ScatterChart(style: ChartStyle(title: "Attention area vs confidence (test set)", xLabel: "softmax score of the predicted class",
                                                    yLabel: "attention area"), groups: groups, points: pts)
            sc.radius = 2.5
            s.figure(svg: sc.svg(), caption: "Each test image; errors are the orange and green markers.")
            if let r = a.costRatio {
                s.paragraph(String(format: "Cost: explaining an image took %.2f× the time of its forward pass in this run.", r))
            }
        }
    }
}
