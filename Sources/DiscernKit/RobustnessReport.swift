import Foundation
import DiscernEngine
import DiscernTraining
import DiscernRobustness
import DiscernReport

/// The robustness part of report.html: the study's unknown-image panel, density against logits
/// with the threshold, ROC and risk–coverage curves of every score, and the metrics table.
enum RobustnessReport {
    static func f(_ x: Double) -> String { String(format: "%.4f", x) }

    static func add(_ r: inout HTMLReport, _ o: StudyOutcome, _ rob: RobustnessOutcome) throws {
        let used = rob.verdict.score
        r.section("Knowing what it does not know") { s in
            s.paragraph("Softmax always spreads its mass over the known classes, so an image of something else can still get a " +
                        "confident score. The study's remedy: fit a Gaussian KDE (Scott's rule) to each logit over the training set; " +
                        "a new image's density score is the mean over classes of KDE_k(logit_k); low density = not trusted. " +
                        "Discern computes that score beside standard baselines and calibrates every threshold on held-out validation " +
                        "images instead of fixing it by hand.")
            s.keyValues([
                ("first score of the verdict", used),
                ("threshold", String(format: "%.6g", rob.verdict.value) + (o.options.fixedThreshold == nil ?
                    " (calibrated on \(rob.calibration.heldOut) held-out images and \(rob.calibration.shiftedCopies) shifted copies to accept \(Int(o.options.acceptFraction * 100))% of them" + (o.options.calibrationConfidence.map { " with \(Int($0 * 100))% confidence)" } ?? ")") : " (fixed)")),
                ("why this score", o.options.score != nil || o.options.unknownScore != nil ? "chosen by the user" : rob.choice.criterion),
                ("test set", "\(StudyReport.pct(rob.testSelective.coverage)) accepted; accuracy on accepted \(StudyReport.pct(rob.testSelective.accuracyOnAccepted)) " +
                    "(all: \(StudyReport.pct(rob.testSelective.accuracy))); \(rob.testSelective.wrongRejected) of \(rob.testSelective.wrong) wrong predictions rejected, " +
                    "\(rob.testSelective.rightRejected) right ones lost"),
            ])
            // Metrics table: every score against every unknown set.
            let names = OODScoreKind.allCases.map(\.rawValue).filter { rob.testScores[$0] != nil }
            for u in rob.unknown {
                s.subheading("Test images (in) vs '\(u.name)' (out, \(u.count) images)")
                s.table(headers: ["score", "AUROC", "FPR@95%TPR", "AUPR-In", "AUPR-Out", "rejected at its threshold", "test accepted", "AURC (test)"],
                        rows: names.compactMap { n in
                            guard let m = u.metrics[n] else { return nil }
                            return [n == used ? "\(n) (verdict)" : n, f(m.auroc), f(m.fpr95), f(m.auprIn), f(m.auprOut),
                                    StudyReport.pct(u.rejectedFractionByScore[n] ?? 0), StudyReport.pct(rob.testAcceptedByScore[n] ?? 0),
                                    f(rob.riskCoverage[n]?.aurc ?? .nan)]
                        }, caption: "Higher AUROC/AUPR and lower FPR95 are better. Thresholds are each score's own calibrated one.")
                let curves = names.compactMap { n -> Series? in
                    guard let roc = try? OODMetrics.rocCurve(inScores: rob.testScores[n]!, outScores: u.scores[n]!) else { return nil }
                    return Series(name: "\(n) (\(String(format: "%.3f", u.metrics[n]?.auroc ?? 0)))", x: roc.fpr, y: roc.tpr)
                }
                s.figure(svg: LineChart.roc(title: "ROC: test vs \(u.name)", curves: curves).svg(),
                         caption: "Positive = in-distribution (test images); each score's AUROC in the legend.")
            }
            let rc = names.compactMap { n -> Series? in
                guard let c = rob.riskCoverage[n] else { return nil }
                return Series(name: "\(n) (AURC \(String(format: "%.4f", c.aurc)))", x: c.coverage, y: c.risk)
            }
            s.figure(svg: LineChart.riskCoverage(title: "Risk–coverage on the test set", curves: rc).svg(),
                     caption: "Accepting fewer test images (lower coverage) by each score: how the error rate of the accepted ones falls.")
        }
        r.section("Density, logits and the threshold") { s in
            // Density against the predicted class's logit for train, test and each unknown set.
            var groups = ["train", "test"], pts: [ScatterChart.Point] = []
            func add(_ set: EvaluatedSet, _ scores: [Double]?, _ g: Int) {
                guard let sc = scores else { return }
                let c = set.logits.shape[1]
                for i in 0..<min(set.logits.shape[0], sc.count) {
                    let row = Array(set.logits.data[i * c ..< (i + 1) * c])
                    pts.append(.init(x: Double(row.max() ?? 0), y: sc[i], group: g))
                }
            }
            add(o.train, rob.trainScores["density"], 0)
            add(o.test, rob.testScores["density"], 1)
            for (k, u) in o.unknown.enumerated() { groups.append(u.name); add(u, rob.unknown[k].scores["density"], 2 + k) }
            var sc = ScatterChart(style: ChartStyle(title: "Study's density score vs the winning logit", xLabel: "max logit", yLabel: "density score"),
                                  groups: groups, points: pts)
            sc.radius = 2.5
            if used == "density" { sc.horizontalLines = [(rob.verdict.value, "threshold")] }
            else if let t = rob.thresholds["density"] { sc.horizontalLines = [(t.value, "density's calibrated threshold")] }
            s.figure(svg: sc.svg(), caption: "Unknown images can have large logits (confident softmax) yet low density.")
            // Histograms of the verdict score for test and unknown sets.
            var hg: [(name: String, values: [Double])] = [("test", rob.testScores[used] ?? [])]
            for u in rob.unknown { hg.append((u.name, u.scores[used] ?? [])) }
            var h = HistogramChart(style: ChartStyle(title: "Verdict score '\(used)'", xLabel: used, yLabel: "density of images"), groups: hg)
            h.thresholds = [(rob.verdict.value, "threshold")]
            s.figure(svg: h.svg(), caption: "Images left of the threshold are rejected as unknown or hard.")
            // Each class's KDE with the unknown images' logits.
            var figs: [(svg: String, caption: String)] = []
            for k in 0..<o.classes.count {
                var g: [(name: String, values: [Double])] = [("train", StudyReport.column(o.train.logits, k))]
                for u in o.unknown { g.append((u.name, StudyReport.column(u.logits, k))) }
                var hk = HistogramChart(style: ChartStyle(title: "logit '\(o.classes[k])': train vs unknown", xLabel: "logit", yLabel: "density"), groups: g)
                let all = g.flatMap(\.values), lo = all.min() ?? 0, hi = all.max() ?? 1
                let xs = (0...120).map { lo + (hi - lo) * Double($0) / 120 }
                if let ys = try? rob.detector.density.kdes[k].evaluate(xs) { hk.curves = [Series(name: "KDE (train)", x: xs, y: ys, dashed: true)] }
                figs.append((hk.svg(), "KDE of logit \(k) over the training set, with unknown images' logits"))
            }
            s.figureRow(figs)
        }
        r.section("Unknown images, as the study showed them") { s in
            for (k, u) in o.unknown.enumerated() {
                let probs = Softmax.probabilities(u.logits), c = u.logits.shape[1]
                let scores = rob.unknown[k].scores
                let order = (0..<u.features.count).sorted { (probs.data[$0 * c ..< ($0 + 1) * c].max() ?? 0) > (probs.data[$1 * c ..< ($1 + 1) * c].max() ?? 0) }
                let shown = order.prefix(60)
                s.subheading("'\(u.name)': \(u.features.count) images, \(StudyReport.pct(rob.unknown[k].rejectedFraction)) rejected" +
                             (u.features.count > shown.count ? " (the \(shown.count) with the most confident softmax shown)" : ""))
                let verdicts = rob.rule.verdicts(scores, count: u.features.count)
                let cells = shown.compactMap { i -> ImageCell? in
                    guard let b = Thumbnails.jpeg(u.features.paths[i]) else { return nil }
                    let p = Array(probs.data[i * c ..< (i + 1) * c]), l = Array(u.logits.data[i * c ..< (i + 1) * c])
                    let v = scores[used]?[i] ?? .nan
                    let dens = scores["density"]?[i] ?? .nan
                    return ImageCell(bytes: b, mimeType: "image/jpeg", caption: Captions.softmax(p, classes: o.classes),
                                     detail: "logits " + l.map { String(format: "%.2f", $0) }.joined(separator: ", ") +
                                        String(format: " / density %.4f", dens) + (used == "density" ? "" : String(format: " / %@ %.4g", used, v)) +
                                        " / " + verdicts[i].kind.rawValue.uppercased() + ": " + verdicts[i].reason,
                                     marker: verdicts[i].isAccepted ? .accept : .reject)
                }
                s.imageGrid(cells, columns: 6)
            }
        }
    }
}
