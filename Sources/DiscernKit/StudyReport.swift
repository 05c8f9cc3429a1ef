import Foundation
import DiscernEngine
import DiscernTraining
import DiscernReport

/// report.html: every figure of the study, then what Discern adds.
enum StudyReport {
    static func build(_ o: StudyOutcome) throws -> HTMLReport {
        let mode = o.options.augmentViews > 0 ? "\(o.options.augmentViews) cached augmented views per image" : "fresh augmentation every epoch (the study's protocol)"
        let head = "linear head trained \(o.options.epochs) epochs with \(mode)"
        let backbone: String
        if o.options.fineTune {
            let blocks = o.options.unfreezeBlocks.map { "its last \($0) blocks" } ?? "every layer"
            backbone = "\(o.options.backbone.rawValue) backbone; \(head), then \(blocks) fine-tuned with the head for " +
                "\(o.options.fineTuneEpochs) one-cycle epoch\(o.options.fineTuneEpochs == 1 ? "" : "s") " +
                "(the training table's last rows)"
        } else {
            backbone = "\(o.options.backbone.rawValue) backbone, frozen; \(head)"
        }
        var r = HTMLReport(title: "Discern report: \(o.classes.joined(separator: " vs "))", subtitle: backbone)
        summary(&r, o)
        training(&r, o)
        try evaluation(&r, o)
        errors(&r, o)
        distributions(&r, o)
        if let rob = o.robustness {
            VerdictReport.add(&r, o, rob)
            try RobustnessReport.add(&r, o, rob)
        }
        if let att = o.attention { AttentionReport.add(&r, o, att) }
        if !o.skipped.isEmpty {
            r.section("Skipped images") { s in
                s.paragraph("These files could not be decoded and were left out; the run went on without them.")
                s.table(headers: ["file", "reason"], rows: o.skipped.map { [$0.path, $0.reason] })
            }
        }
        return r
    }

    static func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }

    static func summary(_ r: inout HTMLReport, _ o: StudyOutcome) {
        r.section("Summary") { s in
            var kv: [(String, String)] = [
                ("classes", o.classes.joined(separator: ", ")),
                ("images", "\(o.train.features.count) training, \(o.validation?.features.count ?? 0) validation (held out for calibration), \(o.test.features.count) test"),
                ("backbone", "\(o.options.backbone.rawValue) (\(URL(fileURLWithPath: o.weightsFile).lastPathComponent))"),
                ("training", "Adam lr \(o.options.learningRate), batch \(o.options.batchSize), \(o.options.epochs) epochs, " +
                    (o.options.augmentViews > 0 ? "\(o.options.augmentViews) cached augmented views" : "fresh augmentation every epoch")),
                ("train accuracy", pct(o.train.table!.accuracy)),
                ("test accuracy", pct(o.test.table!.accuracy)),
                ("time", String(format: "features + training %.1f s, evaluation %.1f s, robustness %.1f s, explanations %.1f s",
                                o.trainSeconds, o.evalSeconds, o.robustnessSeconds, o.explainSeconds)),
            ]
            if let rob = o.robustness {
                kv += VerdictReport.describe(rob.rule)
                kv.append(("test images accepted", pct(rob.testSelective.coverage) + ", accuracy on accepted " + pct(rob.testSelective.accuracyOnAccepted) +
                           "; " + pct(rob.testShift.verdict.correctKept) + " of the correct ones kept, " +
                           pct(rob.testShift.verdict.errorsFlagged) + " of the errors flagged"))
                for t in rob.shifted {
                    kv.append(("shifted '\(t.name)'", "\(pct(t.verdict.correctKept)) of correct ones kept, \(pct(t.verdict.errorsFlagged)) of errors flagged"))
                }
                for u in rob.unknown {
                    kv.append(("unknown '\(u.name)'", "\(u.count) images, \(pct(u.rejectedFraction)) rejected, \(pct(u.unknownFraction)) as unknown"))
                }
            }
            s.keyValues(kv)
        }
    }

    static func training(_ r: inout HTMLReport, _ o: StudyOutcome) {
        r.section("Training") { s in
            let it = o.history.iterations
            let x = it.map { Double($0.iteration) }
            var loss = ChartStyle(title: "Loss per iteration", xLabel: "iteration", yLabel: "cross-entropy")
            loss.legend = false
            var acc = ChartStyle(title: "Running accuracy per iteration", xLabel: "iteration", yLabel: "accuracy")
            acc.legend = false
            s.figureRow([
                (LineChart(style: loss, series: [Series(name: "loss", x: x, y: it.map { Double($0.loss) })]).svg(), "Training loss (per batch)"),
                (LineChart(style: acc, series: [Series(name: "running accuracy", x: x, y: it.map(\.runningAccuracy))]).svg(),
                 "Running accuracy within each epoch, as the study computed it"),
            ])
            s.table(headers: ["epoch", "images", "mean loss", "running accuracy", "seconds", "checkpoint"],
                    rows: o.history.epochs.map { ["\($0.epoch + 1)", "\($0.samples)", String(format: "%.4f", $0.meanLoss),
                                                  String(format: "%.4f", $0.accuracy), String(format: "%.2f", $0.seconds), $0.checkpointed ? "saved" : ""] })
        }
    }

    static func evaluation(_ r: inout HTMLReport, _ o: StudyOutcome) throws {
        try r.section("Evaluation") { s in
            for set in [o.train, o.test] {
                guard let t = set.table else { continue }
                let summary = try ClassificationSummary(t)
                s.subheading("\(set.name) set: accuracy \(pct(summary.accuracy)) on \(summary.images) images")
                s.figure(svg: ConfusionHeatmap(title: "Confusion matrix (\(set.name))", classes: o.classes, counts: summary.confusion).svg(),
                         caption: "Rows: true class; columns: predicted class.")
                s.table(headers: ["class", "precision", "recall", "F1", "support"],
                        rows: summary.classes.map { [$0.name, f($0.precision), f($0.recall), f($0.f1), "\($0.support)"] })
            }
        }
    }

    static func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "–" }

    static func errors(_ r: inout HTMLReport, _ o: StudyOutcome) {
        r.section("Error analysis") { s in
            s.paragraph("Misclassified images bucketed by the softmax score of the wrong (predicted) class, as in the study: " +
                        "high (> 0.7), mid (0.6–0.7), low (< 0.6).")
            for set in [o.train, o.test] {
                guard let t = set.table else { continue }
                for (bucket, label) in [(ErrorBucket.high, "high (> 0.7)"), (.mid, "mid (0.6–0.7)"), (.low, "low (< 0.6)")] {
                    let rows = t.errors(in: bucket)
                    s.subheading("\(set.name): \(rows.count) errors with \(label) wrong-class score")
                    let cells = rows.compactMap { row -> ImageCell? in
                        guard let b = Thumbnails.jpeg(row.path) else { return nil }
                        return ImageCell(bytes: b, mimeType: "image/jpeg", caption: Captions.softmax(row.probabilities, classes: o.classes),
                                         detail: "\(URL(fileURLWithPath: row.path).lastPathComponent) (true: \(o.classes[row.trueLabel]))")
                    }
                    if !cells.isEmpty { s.imageGrid(cells, columns: 5) }
                }
            }
        }
    }

    static func column(_ t: Tensor, _ k: Int) -> [Double] {
        let c = t.shape[1]
        return (0..<t.shape[0]).map { Double(t.data[$0 * c + k]) }
    }

    static func distributions(_ r: inout HTMLReport, _ o: StudyOutcome) {
        r.section("Logit and softmax distributions") { s in
            s.paragraph("Histograms of each logit over the training and test sets, split by true class, with the Gaussian KDE " +
                        "(Scott's rule) fitted to each logit over the training set — the densities the study's score uses.")
            for set in [o.train, o.test] {
                guard let t = set.table else { continue }
                var figs: [(svg: String, caption: String)] = []
                for k in 0..<o.classes.count {
                    let vals = column(set.logits, k)
                    let groups = o.classes.indices.map { c in (name: "true \(o.classes[c])", values: t.rows.indices.filter { t.rows[$0].trueLabel == c }.map { vals[$0] }) }
                    var h = HistogramChart(style: ChartStyle(title: "\(set.name): logit '\(o.classes[k])'", xLabel: "logit", yLabel: "density"), groups: groups)
                    if let kde = o.robustness?.detector.density.kdes[k] {
                        let lo = vals.min() ?? 0, hi = vals.max() ?? 1, pad = (hi - lo) * 0.1 + 1e-6
                        let xs = (0...120).map { lo - pad + (hi - lo + 2 * pad) * Double($0) / 120 }
                        if let ys = try? kde.evaluate(xs) { h.curves = [Series(name: "KDE (train)", x: xs, y: ys, dashed: true)] }
                    }
                    figs.append((h.svg(), "Logit \(k) ('\(o.classes[k])') on the \(set.name) set"))
                }
                // Two per row keeps every chart the same size.
                for i in stride(from: 0, to: figs.count, by: 2) { s.figureRow(Array(figs[i..<min(i + 2, figs.count)])) }
            }
            var soft: [(svg: String, caption: String)] = []
            for set in [o.train, o.test] {
                guard let t = set.table else { continue }
                let maxP = t.rows.map { Double($0.probabilities.max() ?? 0) }
                var full = HistogramChart(style: ChartStyle(title: "\(set.name): max softmax score", xLabel: "score", yLabel: "images"),
                                          groups: [("correct", zip(maxP, t.rows).filter { $0.1.correct }.map(\.0)),
                                                   ("wrong", zip(maxP, t.rows).filter { !$0.1.correct }.map(\.0))])
                full.density = false; full.range = 0.5...1.0
                var zoom = full
                zoom.style.title = "\(set.name): max softmax score (zoomed y-axis)"
                let counts = HistogramChart.counts(zip(maxP, t.rows).filter { !$0.1.correct }.map(\.0), bins: full.bins, range: 0.5...1.0)
                zoom.yMax = Double(max(5, (counts.max() ?? 0) * 2))
                soft.append((full.svg(), "Softmax scores, \(set.name) set")); soft.append((zoom.svg(), "The same, y-axis cut to show the few low scores"))
                s.figureRow(soft); soft = []
            }
        }
    }
}
