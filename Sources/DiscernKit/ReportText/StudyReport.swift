import Foundation
import DiscernEngine
import DiscernTraining
import DiscernReport

/// report.html: every figure of the study, then what Discern adds.
enum StudyReport {
    static func build(_ outcome: StudyOutcome) throws -> HTMLReport {
        let options = outcome.options
        let mode = options.augmentationSummary
        let head = "linear head trained \(options.epochs) epochs with \(mode)"
        let backbone: String
        if options.fineTune {
            let blocks = options.unfreezeBlocks.map { "its last \($0) blocks" } ?? "every layer"
            backbone = "\(options.backbone.rawValue) backbone; \(head), then \(blocks) fine-tuned with the head for "
                + "\(options.fineTuneEpochs) one-cycle epoch\(options.fineTuneEpochs == 1 ? "" : "s") "
                + "(the training table's last rows)"
        } else {
            backbone = "\(options.backbone.rawValue) backbone, frozen; \(head)"
        }
        var report = HTMLReport(title: "Discern report: \(outcome.classes.joined(separator: " vs "))",
                                subtitle: backbone)
        summary(&report, outcome)
        training(&report, outcome)
        try evaluation(&report, outcome)
        errors(&report, outcome)
        distributions(&report, outcome)
        VerdictReport.add(&report, outcome, outcome.robustness)
        try RobustnessReport.add(&report, outcome, outcome.robustness)
        if let attention = outcome.attention { AttentionReport.add(&report, outcome, attention) }
        if !outcome.skipped.isEmpty {
            report.section("Skipped images") { section in
                section.paragraph("These files could not be decoded and were left out; the run went on without them.")
                section.table(headers: ["file", "reason"], rows: outcome.skipped.map { [$0.path, $0.reason] })
            }
        }
        return report
    }

    static func percent(_ share: Double) -> String { String(format: "%.2f%%", 100 * share) }

    static func summary(_ report: inout HTMLReport, _ outcome: StudyOutcome) {
        let options = outcome.options
        let robustness = outcome.robustness
        report.section("Summary") { section in
            let weightsName = URL(fileURLWithPath: outcome.weightsFile).lastPathComponent
            let views = options.augmentationSummary
            var rows: [(String, String)] = [
                ("classes", outcome.classes.joined(separator: ", ")),
                ("images", "\(outcome.train.features.count) training, \(outcome.validation?.features.count ?? 0) "
                    + "validation (held out for calibration), \(outcome.test.features.count) test"),
                ("backbone", "\(options.backbone.rawValue) (\(weightsName))"),
                ("training", "Adam lr \(options.learningRate), batch \(options.batchSize), \(options.epochs) epochs, "
                    + views),
                ("train accuracy", percent(outcome.train.table.accuracy)),
                ("test accuracy", percent(outcome.test.table.accuracy)),
                ("time", String(format: "features + training %.1f s, evaluation %.1f s, robustness %.1f s, "
                                + "explanations %.1f s", outcome.trainSeconds, outcome.evalSeconds,
                                outcome.robustnessSeconds, outcome.explainSeconds)),
            ]
            rows += VerdictReport.describe(robustness.rule)
            let selective = robustness.testSelective
            let testVerdict = robustness.testShift.verdict
            rows.append(("test images accepted", percent(selective.coverage) + ", accuracy on accepted "
                         + percent(selective.accuracyOnAccepted) + "; " + percent(testVerdict.correctKept)
                         + " of the correct ones kept, " + percent(testVerdict.errorsFlagged)
                         + " of the errors flagged"))
            for shifted in robustness.shifted {
                rows.append(("shifted '\(shifted.name)'", "\(percent(shifted.verdict.correctKept)) of correct ones "
                             + "kept, \(percent(shifted.verdict.errorsFlagged)) of errors flagged"))
            }
            for unknown in robustness.unknown {
                rows.append(("unknown '\(unknown.name)'", "\(unknown.count) images, "
                             + "\(percent(unknown.rejectedFraction)) rejected, "
                             + "\(percent(unknown.unknownFraction)) as unknown"))
            }
            section.keyValues(rows)
        }
    }

    static func training(_ report: inout HTMLReport, _ outcome: StudyOutcome) {
        report.section("Training") { section in
            let iterations = outcome.history.iterations
            let iterationNumbers = iterations.map { Double($0.iteration) }
            var loss = ChartStyle(title: "Loss per iteration", xLabel: "iteration", yLabel: "cross-entropy")
            loss.legend = false
            var accuracy = ChartStyle(title: "Running accuracy per iteration", xLabel: "iteration",
                                      yLabel: "accuracy")
            accuracy.legend = false
            let lossSeries = Series(name: "loss", x: iterationNumbers, y: iterations.map { Double($0.loss) })
            let accuracySeries = Series(name: "running accuracy", x: iterationNumbers,
                                        y: iterations.map(\.runningAccuracy))
            section.figureRow([
                (LineChart(style: loss, series: [lossSeries]).svg(), "Training loss (per batch)"),
                (LineChart(style: accuracy, series: [accuracySeries]).svg(),
                 "Running accuracy within each epoch, as the study computed it"),
            ])
            section.table(headers: ["epoch", "images", "mean loss", "running accuracy", "seconds", "checkpoint"],
                          rows: outcome.history.epochs.map { epoch in
                              ["\(epoch.epoch + 1)", "\(epoch.samples)", String(format: "%.4f", epoch.meanLoss),
                               String(format: "%.4f", epoch.accuracy), String(format: "%.2f", epoch.seconds),
                               epoch.checkpointed ? "saved" : ""]
                          })
        }
    }

    static func evaluation(_ report: inout HTMLReport, _ outcome: StudyOutcome) throws {
        try report.section("Evaluation") { section in
            for set in [outcome.train, outcome.test] {
                let summary = try ClassificationSummary(set.table)
                section.subheading("\(set.name) set: accuracy \(percent(summary.accuracy)) on \(summary.images) images")
                let heatmap = ConfusionHeatmap(title: "Confusion matrix (\(set.name))", classes: outcome.classes,
                                               counts: summary.confusion)
                section.figure(svg: heatmap.svg(), caption: "Rows: true class; columns: predicted class.")
                section.table(headers: ["class", "precision", "recall", "F1", "support"],
                              rows: summary.classes.map { row in
                                  [row.name, fixed(row.precision), fixed(row.recall), fixed(row.f1), "\(row.support)"]
                              })
            }
        }
    }

    static func fixed(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "–" }

    static func errors(_ report: inout HTMLReport, _ outcome: StudyOutcome) {
        report.section("Error analysis") { section in
            section.paragraph("Misclassified images bucketed by the softmax score of the wrong (predicted) class, "
                              + "as in the study: high (> 0.7), mid (0.6–0.7), low (< 0.6).")
            let buckets = [(ErrorBucket.high, "high (> 0.7)"), (.mid, "mid (0.6–0.7)"), (.low, "low (< 0.6)")]
            for set in [outcome.train, outcome.test] {
                for (bucket, label) in buckets {
                    let rows = set.table.errors(in: bucket)
                    section.subheading("\(set.name): \(rows.count) errors with \(label) wrong-class score")
                    let cells = rows.compactMap { row -> ImageCell? in
                        guard let bytes = Thumbnails.jpeg(row.path) else { return nil }
                        let name = URL(fileURLWithPath: row.path).lastPathComponent
                        return ImageCell(bytes: bytes, mimeType: "image/jpeg",
                                         caption: Captions.softmax(row.probabilities, classes: outcome.classes),
                                         detail: "\(name) (true: \(outcome.classes[row.trueLabel]))")
                    }
                    if !cells.isEmpty { section.imageGrid(cells, columns: 5) }
                }
            }
        }
    }

    /// Column `index` of a [rows, columns] tensor.
    static func column(_ tensor: Tensor, _ index: Int) -> [Double] {
        let columns = tensor.shape[1]
        return (0..<tensor.shape[0]).map { Double(tensor.data[$0 * columns + index]) }
    }

    static func distributions(_ report: inout HTMLReport, _ outcome: StudyOutcome) {
        let classes = outcome.classes
        report.section("Logit and softmax distributions") { section in
            section.paragraph("Histograms of each logit over the training and test sets, split by true class, with "
                              + "the Gaussian KDE (Scott's rule) fitted to each logit over the training set — the "
                              + "densities the study's score uses.")
            let kdes = outcome.robustness.detector.density.kdes
            for set in [outcome.train, outcome.test] {
                let rows = set.table.rows
                var figures: [(svg: String, caption: String)] = []
                for classIndex in 0..<classes.count {
                    let values = column(set.logits, classIndex)
                    let groups = classes.indices.map { trueClass in
                        (name: "true \(classes[trueClass])",
                         values: rows.indices.filter { rows[$0].trueLabel == trueClass }.map { values[$0] })
                    }
                    let style = ChartStyle(title: "\(set.name): logit '\(classes[classIndex])'", xLabel: "logit",
                                           yLabel: "density")
                    var histogram = HistogramChart(style: style, groups: groups)
                    if kdes.indices.contains(classIndex) {
                        let low = values.min() ?? 0
                        let high = values.max() ?? 1
                        let pad = (high - low) * 0.1 + 1e-6
                        let xs = (0...120).map { low - pad + (high - low + 2 * pad) * Double($0) / 120 }
                        if let ys = try? kdes[classIndex].evaluate(xs) {
                            histogram.curves = [Series(name: "KDE (train)", x: xs, y: ys, dashed: true)]
                        }
                    }
                    figures.append((histogram.svg(),
                                    "Logit \(classIndex) ('\(classes[classIndex])') on the \(set.name) set"))
                }
                // Two per row keeps every chart the same size.
                for first in stride(from: 0, to: figures.count, by: 2) {
                    section.figureRow(Array(figures[first..<min(first + 2, figures.count)]))
                }
            }
            for set in [outcome.train, outcome.test] {
                let rows = set.table.rows
                let maxima = rows.map { Double($0.probabilities.max() ?? 0) }
                let wrong = zip(maxima, rows).filter { !$0.1.correct }.map(\.0)
                let style = ChartStyle(title: "\(set.name): max softmax score", xLabel: "score", yLabel: "images")
                var full = HistogramChart(style: style,
                                          groups: [("correct", zip(maxima, rows).filter { $0.1.correct }.map(\.0)),
                                                   ("wrong", wrong)])
                full.density = false
                full.range = 0.5...1.0
                var zoomed = full
                zoomed.style.title = "\(set.name): max softmax score (zoomed y-axis)"
                let counts = HistogramChart.counts(wrong, bins: full.bins, range: 0.5...1.0)
                zoomed.yMax = Double(max(5, (counts.max() ?? 0) * 2))
                section.figureRow([(full.svg(), "Softmax scores, \(set.name) set"),
                                   (zoomed.svg(), "The same, y-axis cut to show the few low scores")])
            }
        }
    }
}
