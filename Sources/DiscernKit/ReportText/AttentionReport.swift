import Foundation
import DiscernReport
import DiscernExplain

/// The explanations part of report.html: a CAM for every error and the attention-area analysis.
enum AttentionReport {
    static func add(_ report: inout HTMLReport, _ outcome: StudyOutcome, _ attention: AttentionOutcome) {
        let analysis = attention.analysis
        let split = AttentionOutcome.apparentSplit
        report.section("Where the network looked") { section in
            section.paragraph("\(attention.method.rawValue) on layer \(attention.layer), for the predicted class. "
                              + "Attention area = share of the image where the normalised map is at least "
                              + "\(attention.threshold). Files (overlay PNG, maps as .npy, guided backprop) are in "
                              + "\(attention.outputFolder).")
            if attention.errorCells.isEmpty {
                section.note("No test image was misclassified.")
            } else {
                let cells = attention.errorCells.map {
                    ImageCell(bytes: $0.overlayPNG, caption: $0.caption, detail: $0.detail)
                }
                section.imageGrid(cells, columns: 5, caption: "Every misclassified test image with its Grad-CAM "
                                  + "overlay for the (wrong) predicted class.")
            }
            section.subheading("Do apparent errors look at larger areas?")
            section.paragraph("The study found that misclassifications that look absurd (high wrong-class score, "
                              + "\"apparent\") had larger attention areas than understandable ones. Apparent here: "
                              + "wrong-class softmax score ≥ \(split).")
            func median(_ group: AttentionAnalysis.Group) -> String {
                group.medianArea.map { String(format: "%.3f", $0) } ?? "–"
            }
            var rows = [["correct predictions", "\(analysis.correct.count)", median(analysis.correct)],
                        ["apparent errors (score ≥ \(split))", "\(analysis.apparent.count)",
                         median(analysis.apparent)],
                        ["understandable errors", "\(analysis.understandable.count)",
                         median(analysis.understandable)]]
            if let test = analysis.apparentVsUnderstandable {
                rows.append(["Mann–Whitney, apparent vs understandable", String(format: "U = %.1f", test.u),
                             String(format: "p = %.3g%@", test.p, test.exact ? " (exact)" : "")])
            }
            if let test = analysis.errorsVsCorrect {
                rows.append(["Mann–Whitney, errors vs correct", String(format: "U = %.1f", test.u),
                             String(format: "p = %.3g", test.p)])
            }
            section.table(headers: ["group", "images", "median attention area"], rows: rows)
            section.note(analysis.verdict)
            let groups = ["correct", "apparent error", "understandable error"]
            var points: [ScatterChart.Point] = []
            for image in attention.areas.indices where attention.areas[image].isFinite {
                let confidence = attention.confidences[image]
                let group = attention.correct[image] ? 0 : (confidence >= split ? 1 : 2)
                points.append(.init(x: confidence, y: attention.areas[image], group: group))
            }
            let style = ChartStyle(title: "Attention area vs confidence (test set)",
                                   xLabel: "softmax score of the predicted class", yLabel: "attention area")
            var scatter = ScatterChart(style: style, groups: groups, points: points)
            scatter.radius = 2.5
            section.figure(svg: scatter.svg(), caption: "Each test image; errors are the orange and green markers.")
            if let ratio = attention.costRatio {
                section.paragraph(String(format: "Cost: explaining an image took %.2f× the time of its forward pass "
                                         + "in this run.", ratio))
            }
        }
    }
}
