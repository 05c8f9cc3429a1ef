import Foundation
import DiscernEngine
import DiscernTraining
import DiscernRobustness
import DiscernReport

/// The robustness part of report.html: the study's unknown-image panel, density against logits
/// with the threshold, ROC and risk–coverage curves of every score, and the metrics table.
enum RobustnessReport {
    static func fixed(_ value: Double) -> String { String(format: "%.4f", value) }

    static func percent(_ share: Double) -> String { StudyReport.percent(share) }

    static func add(_ report: inout HTMLReport, _ outcome: StudyOutcome, _ robustness: RobustnessOutcome) throws {
        scores(&report, outcome, robustness)
        density(&report, outcome, robustness)
        unknownImages(&report, outcome, robustness)
    }

    /// What the score was chosen on: each candidate's share of every kind of proxy unknown that passes its
    /// threshold (and its AUROC there), best worst case first.
    static func choiceTable(_ section: inout ReportSection, _ choice: Calibration.Choice, used: OODScoreKind) {
        let kinds = choice.byKind.keys.sorted()
        guard !choice.table.isEmpty, !kinds.isEmpty else { return }
        func cell(_ result: ProxyResult) -> String { percent(result.passing) + " (" + fixed(result.auroc) + ")" }
        let rows = choice.ranked.map { score, worst in
            [score == used ? "\(score.rawValue) (verdict)"
                 : choice.screenedOut.contains(score) ? "\(score.rawValue) (screened out)" : score.rawValue,
             cell(worst)]
                + kinds.map { kind in choice.byKind[kind]?[score].map(cell) ?? "–" }
        }
        section.table(headers: ["candidate", "worst photo proxy: passing (AUROC)"]
                          + kinds.map { "passing (AUROC): \($0)" },
                      rows: rows,
                      caption: "Proxy unknowns made from the held-out photos alone (no --unknown folder is looked "
                          + "at): feature columns permuted independently, each class's photos scored against a "
                          + "reference without that class (mean over the classes left out), and enlarged close-ups "
                          + "of the photos. Passing: the share that the score's threshold accepting the target share "
                          + "of held-out photos lets through. The two kinds of photos rank the candidates; the "
                          + "permuted columns, which no photo produces, only screen out a score that does not "
                          + String(format: "separate them (AUROC under %g).", Calibration.screeningAUROC))
    }

    /// The verdict's first score, every score's separation of each unknown set, and the risk–coverage curves.
    static func scores(_ report: inout HTMLReport, _ outcome: StudyOutcome, _ robustness: RobustnessOutcome) {
        let options = outcome.options
        let used = robustness.verdict.score
        let selective = robustness.testSelective
        report.section("Knowing what it does not know") { section in
            section.paragraph("Softmax always spreads its mass over the known classes, so an image of something else "
                + "can still get a confident score. The study's remedy: fit a Gaussian KDE (Scott's rule) to each "
                + "logit over the training set; a new image's density score is the mean over classes of "
                + "KDE_k(logit_k); low density = not trusted. Discern computes that score beside standard baselines "
                + "and calibrates every threshold on held-out validation images instead of fixing it by hand.")
            let confidence = options.calibrationConfidence.map { " with \(Int($0 * 100))% confidence)" } ?? ")"
            let calibrated = " (calibrated on \(robustness.calibration.heldOut) held-out images and "
                + "\(robustness.calibration.shiftedCopies) shifted copies to accept "
                + "\(Int(options.acceptFraction * 100))% of them" + confidence
            let chosenByUser = options.score != nil || options.unknownScore != nil
            section.keyValues([
                ("first score of the verdict", used.rawValue),
                ("threshold", String(format: "%.6g", robustness.verdict.value)
                    + (options.fixedThreshold == nil ? calibrated : " (fixed)")),
                ("why this score", chosenByUser ? "chosen by the user" : robustness.choice.criterion),
                ("test set", "\(percent(selective.coverage)) accepted; accuracy on accepted "
                    + "\(percent(selective.accuracyOnAccepted)) (all: \(percent(selective.accuracy))); "
                    + "\(selective.wrongRejected) of \(selective.wrong) wrong predictions rejected, "
                    + "\(selective.rightRejected) right ones lost"),
            ])
            choiceTable(&section, robustness.choice, used: used)
            // Metrics table: every score against every unknown set.
            let names = OODScoreKind.allCases.filter { robustness.testScores[$0] != nil }
            for unknown in robustness.unknown {
                section.subheading("Test images (in) vs '\(unknown.name)' (out, \(unknown.count) images)")
                let rows = names.compactMap { name -> [String]? in
                    guard let metrics = unknown.metrics[name] else { return nil }
                    return [name == used ? "\(name.rawValue) (verdict)" : name.rawValue, fixed(metrics.auroc),
                            fixed(metrics.fpr95), fixed(metrics.auprIn), fixed(metrics.auprOut),
                            percent(unknown.rejectedFractionByScore[name] ?? 0),
                            percent(robustness.testAcceptedByScore[name] ?? 0),
                            fixed(robustness.riskCoverage[name]?.aurc ?? .nan)]
                }
                section.table(headers: ["score", "AUROC", "FPR@95%TPR", "AUPR-In", "AUPR-Out",
                                        "rejected at its threshold", "test accepted", "AURC (test)"],
                              rows: rows, caption: "Higher AUROC/AUPR and lower FPR95 are better. Thresholds are "
                                  + "each score's own calibrated one.")
                let curves = names.compactMap { name -> Series? in
                    guard let inScores = robustness.testScores[name], let outScores = unknown.scores[name],
                          let roc = try? OODMetrics.rocCurve(inScores: inScores, outScores: outScores) else {
                        return nil
                    }
                    let auroc = String(format: "%.3f", unknown.metrics[name]?.auroc ?? 0)
                    return Series(name: "\(name.rawValue) (\(auroc))", x: roc.fpr, y: roc.tpr)
                }
                section.figure(svg: LineChart.roc(title: "ROC: test vs \(unknown.name)", curves: curves).svg(),
                               caption: "Positive = in-distribution (test images); each score's AUROC in the legend.")
            }
            let riskCoverage = names.compactMap { name -> Series? in
                guard let curve = robustness.riskCoverage[name] else { return nil }
                return Series(name: "\(name.rawValue) (AURC \(String(format: "%.4f", curve.aurc)))", x: curve.coverage,
                              y: curve.risk)
            }
            section.figure(svg: LineChart.riskCoverage(title: "Risk–coverage on the test set",
                                                       curves: riskCoverage).svg(),
                           caption: "Accepting fewer test images (lower coverage) by each score: how the error rate "
                               + "of the accepted ones falls.")
        }
    }

    /// The study's density score against the winning logit, the verdict score's histogram, each class's KDE.
    static func density(_ report: inout HTMLReport, _ outcome: StudyOutcome, _ robustness: RobustnessOutcome) {
        let used = robustness.verdict.score
        let classes = outcome.classes
        report.section("Density, logits and the threshold") { section in
            // Density against the predicted class's logit for train, test and each unknown set.
            var groups = ["train", "test"]
            var points: [ScatterChart.Point] = []
            func add(_ set: EvaluatedSet, _ scores: [Double]?, _ group: Int) {
                guard let scores else { return }
                let columns = set.logits.shape[1]
                for image in 0..<min(set.logits.shape[0], scores.count) {
                    let row = set.logits.data[image * columns ..< (image + 1) * columns]
                    points.append(.init(x: Double(row.max() ?? 0), y: scores[image], group: group))
                }
            }
            add(outcome.train.images, robustness.trainScores[.density], 0)
            add(outcome.test.images, robustness.testScores[.density], 1)
            for (index, unknown) in outcome.unknown.enumerated() {
                groups.append(unknown.name)
                add(unknown, robustness.unknown[index].scores[.density], 2 + index)
            }
            let style = ChartStyle(title: "Study's density score vs the winning logit", xLabel: "max logit",
                                   yLabel: "density score")
            var scatter = ScatterChart(style: style, groups: groups, points: points)
            scatter.radius = 2.5
            if used == .density {
                scatter.horizontalLines = [(robustness.verdict.value, "threshold")]
            } else if let threshold = robustness.thresholds[.density] {
                scatter.horizontalLines = [(threshold.value, "density's calibrated threshold")]
            }
            section.figure(svg: scatter.svg(),
                           caption: "Unknown images can have large logits (confident softmax) yet low density.")
            // Histograms of the verdict score for test and unknown sets.
            var verdictGroups: [(name: String, values: [Double])] = [("test", robustness.testScores[used] ?? [])]
            for unknown in robustness.unknown { verdictGroups.append((unknown.name, unknown.scores[used] ?? [])) }
            var histogram = HistogramChart(style: ChartStyle(title: "Verdict score '\(used.rawValue)'",
                                                             xLabel: used.rawValue,
                                                             yLabel: "density of images"),
                                           groups: verdictGroups)
            histogram.thresholds = [(robustness.verdict.value, "threshold")]
            section.figure(svg: histogram.svg(),
                           caption: "Images left of the threshold are rejected as unknown or hard.")
            // Each class's KDE with the unknown images' logits.
            let kdes = robustness.detector.density.kdes
            var figures: [(svg: String, caption: String)] = []
            for classIndex in 0..<classes.count {
                var logitGroups: [(name: String, values: [Double])] = [
                    ("train", StudyReport.column(outcome.train.logits, classIndex)),
                ]
                for unknown in outcome.unknown {
                    logitGroups.append((unknown.name, StudyReport.column(unknown.logits, classIndex)))
                }
                let style = ChartStyle(title: "logit '\(classes[classIndex])': train vs unknown", xLabel: "logit",
                                       yLabel: "density")
                var classHistogram = HistogramChart(style: style, groups: logitGroups)
                let all = logitGroups.flatMap(\.values)
                let low = all.min() ?? 0
                let high = all.max() ?? 1
                let xs = (0...120).map { low + (high - low) * Double($0) / 120 }
                if kdes.indices.contains(classIndex), let ys = try? kdes[classIndex].evaluate(xs) {
                    classHistogram.curves = [Series(name: "KDE (train)", x: xs, y: ys, dashed: true)]
                }
                figures.append((classHistogram.svg(),
                                "KDE of logit \(classIndex) over the training set, with unknown images' logits"))
            }
            section.figureRow(figures)
        }
    }

    /// The unknown images with the most confident softmax, with their scores and verdicts.
    static func unknownImages(_ report: inout HTMLReport, _ outcome: StudyOutcome,
                              _ robustness: RobustnessOutcome) {
        let used = robustness.verdict.score
        report.section("Unknown images, as the study showed them") { section in
            for (index, unknown) in outcome.unknown.enumerated() {
                let probabilities = Softmax.probabilities(unknown.logits)
                let columns = unknown.logits.shape[1]
                func row(_ tensor: Tensor, _ image: Int) -> [Float] {
                    Array(tensor.data[image * columns ..< (image + 1) * columns])
                }
                let scores = robustness.unknown[index].scores
                let count = unknown.features.count
                let order = (0..<count).sorted {
                    (row(probabilities, $0).max() ?? 0) > (row(probabilities, $1).max() ?? 0)
                }
                let shown = order.prefix(60)
                let note = count > shown.count ? " (the \(shown.count) with the most confident softmax shown)" : ""
                section.subheading("'\(unknown.name)': \(count) images, "
                                   + "\(percent(robustness.unknown[index].rejectedFraction)) rejected" + note)
                let verdicts = robustness.rule.verdicts(scores, count: count, shortSides: unknown.features.shortSides)
                let cells = shown.compactMap { image -> ImageCell? in
                    guard let bytes = Thumbnails.jpeg(unknown.features.paths[image]) else { return nil }
                    let logits = row(unknown.logits, image).map { String(format: "%.2f", $0) }
                    let density = scores[.density]?[image] ?? .nan
                    let verdictValue = scores[used]?[image] ?? .nan
                    let verdictScore = used == .density
                        ? ""
                        : String(format: " / %@ %.4g", used.rawValue, verdictValue)
                    let verdict = verdicts[image]
                    return ImageCell(bytes: bytes, mimeType: "image/jpeg",
                                     caption: Captions.softmax(row(probabilities, image), classes: outcome.classes),
                                     detail: "logits " + logits.joined(separator: ", ")
                                         + String(format: " / density %.4f", density) + verdictScore
                                         + " / " + verdict.kind.rawValue.uppercased() + ": " + verdict.reason,
                                     marker: verdict.isAccepted ? .accept : .reject)
                }
                section.imageGrid(cells, columns: 6)
            }
        }
    }
}
