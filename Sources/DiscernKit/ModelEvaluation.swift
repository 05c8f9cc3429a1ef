import Foundation
import DiscernEngine
import DiscernVision
import DiscernTraining
import DiscernRobustness
import DiscernWeights

/// `discern evaluate`: a saved model on labelled image folders — accuracy, confusion matrix, per-class
/// precision/recall, per-image tables — and what its verdict does on photos from elsewhere (`shifted`: folders
/// with the class sub-folders) and on images of other things (`unknown`: any folders of images), drawn in
/// `verdict.svg`.
public enum ModelEvaluation {
    public struct SetResult: Sendable {
        public var name: String
        public var summary: ClassificationSummary
        public var selective: SelectiveResult?
        public var shift: ShiftReport?
    }

    public struct UnknownResult: Sendable {
        public var name: String
        public var count: Int
        /// Shares of the images per verdict.
        public var verdictShares: [VerdictKind: Double]
        /// Per score: the in-distribution images of the evaluation (test set, or the data folder) vs this set.
        public var metrics: [OODScoreKind: OODMetricSet]
        /// Per score, the share its own calibrated threshold rejects.
        public var rejectedByScore: [OODScoreKind: Double]
        public var verdictScore: OODScoreKind
        public var line: String {
            let verdictMetrics = metrics[verdictScore]
            return String(format: "%@: %d images, %.1f%% rejected (%.1f%% unknown, %.1f%% unsure); %@ AUROC %.4f, "
                          + "FPR95 %.4f", name, count, 100 * (1 - (verdictShares[.accept] ?? 0)),
                          100 * (verdictShares[.unknown] ?? 0), 100 * (verdictShares[.unsure] ?? 0),
                          verdictScore.rawValue, verdictMetrics?.auroc ?? .nan, verdictMetrics?.fpr95 ?? .nan)
        }
    }

    public struct Result: Sendable {
        public var sets: [SetResult]
        public var shifted: [ShiftReport]
        public var unknown: [UnknownResult]
    }

    struct Scored {
        var name: String
        var features: FeatureSet
        var logits: Tensor
        var scores: [OODScoreKind: [Double]]
    }

    /// With `cache`, each folder's features are kept there and reused by a later evaluation of a model with the same
    /// backbone weights (same images, same transform): comparing two calibrations of one run costs one extraction.
    public static func run(modelPath: String, data: String, unknown: [String] = [], shifted: [String] = [],
                           out: String, force: Bool, cache: String? = nil,
                           progress: any ProgressReporter = SilentProgress()) throws -> Result {
        let service = try DiscernModelService.load(path: modelPath)
        guard FileManager.default.fileExists(atPath: data) else {
            throw KitError.missingFile(data, what: "data folder")
        }
        for folder in unknown + shifted where !FileManager.default.fileExists(atPath: folder) {
            let what = unknown.contains(folder) ? "--unknown folder" : "--shifted folder"
            throw KitError.missingFile(folder, what: what)
        }
        let outFolder = try OutputFolder(out, force: force)
        let extractor = try FeatureExtractor(backbone: service.backbone, progress: progress)
        let model = service.model
        let classes = model.metadata.classes
        let rule = service.rule
        let thresholds = model.metadata.thresholds
        let featureCache = cache.map { FeatureCacheFile(dir: URL(fileURLWithPath: $0)) }
        // Once, not per folder: for a fine-tuned model it hashes every backbone weight.
        let cacheIdentity = model.featureCacheIdentity
        func score(_ name: String, _ samples: [ImageFolder.Sample]) throws -> Scored {
            let features = try extractor.extract(samples, augment: false, title: "features (\(name))",
                                                 cache: featureCache, name: "evaluate-\(name)",
                                                 weights: cacheIdentity)
            let logits = try model.head.logits(features.features)
            let scores = try model.detector?.allScores(logits: try Matrix(logits),
                                                       features: try Matrix(features.features)) ?? [:]
            return Scored(name: name, features: features, logits: logits, scores: scores)
        }
        func labelled(_ folder: String) throws -> ImageFolder {
            let images = try StudyData.openFolder(folder)
            guard images.classes == classes else {
                throw KitError.badData(folder, "classes \(images.classes) differ from the model's \(classes)")
            }
            for skipped in images.skipped { Study.log(skipped.description) }
            return images
        }
        let storedThresholds = Dictionary(uniqueKeysWithValues: thresholds.map {
            ($0.key, OODThreshold(score: $0.key, value: $0.value))
        })
        let root = URL(fileURLWithPath: data)
        var sets: [(name: String, folder: String)] = []
        for (name, folders) in [("train", ["training_set", "train"]), ("test", ["test_set", "test"])] {
            let found = folders.first { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }
            if let found { sets.append((name, root.appendingPathComponent(found).path)) }
        }
        if sets.isEmpty { sets = [("data", data)] }   // a plain image folder
        var results: [SetResult] = []
        var metrics: [String: Any] = [:]
        var inDistribution: Scored?
        for (name, folder) in sets {
            let images = try labelled(folder)
            let scored = try score(name, images.samples)
            let table = try PredictionTable(classes: images.classes, paths: scored.features.paths,
                                            labels: scored.features.labels, logits: scored.logits)
            try table.writeCSV(to: outFolder.url("\(name).csv"))
            try table.writeJSON(to: outFolder.url("\(name).json"))
            let summary = try ClassificationSummary(table)
            let correct = table.rows.map(\.correct)
            var selective: SelectiveResult?
            var shift: ShiftReport?
            if model.detector != nil {
                let sides = scored.features.shortSides
                let verdicts = rule.verdicts(scored.scores, count: correct.count, shortSides: sides)
                selective = try Selective.evaluate(correct: correct, accepted: verdicts.map(\.isAccepted))
                shift = try ShiftReport.make(name: name, correct: correct, scores: scored.scores, shortSides: sides,
                                             rule: rule, thresholds: storedThresholds)
            }
            results.append(SetResult(name: name, summary: summary, selective: selective, shift: shift))
            var setMetrics: [String: Any] = ["accuracy": summary.accuracy, "images": summary.images,
                                             "summary": try StudyMetrics.json(summary)]
            if let selective { setMetrics["selective"] = try StudyMetrics.json(selective) }
            if let shift { setMetrics["verdict"] = shift.json() }
            metrics[name] = setMetrics
            if name != "train" || inDistribution == nil { inDistribution = scored }
        }
        var shiftReports: [ShiftReport] = []
        var shiftJSON: [String: Any] = [:]
        for folder in shifted {
            let name = URL(fileURLWithPath: folder).lastPathComponent
            let scored = try score(name, try labelled(folder).samples)
            let predicted = argmaxRows(try Matrix(scored.logits))
            let correct = zip(predicted, scored.features.labels).map { $0 == $1 }
            let report = try ShiftReport.make(name: name, correct: correct, scores: scored.scores,
                                              shortSides: scored.features.shortSides, rule: rule,
                                              thresholds: storedThresholds)
            shiftReports.append(report)
            shiftJSON[name] = report.json()
        }
        var unknownResults: [UnknownResult] = []
        var unknownJSON: [String: Any] = [:]
        for folder in unknown {
            let name = URL(fileURLWithPath: folder).lastPathComponent
            let scored = try score(name, try StudyData.looseImages(folder))
            let verdicts = rule.verdicts(scored.scores, count: scored.features.count,
                                         shortSides: scored.features.shortSides)
            var shares: [VerdictKind: Double] = [:]
            for kind in VerdictKind.allCases {
                shares[kind] = Double(verdicts.filter { $0.kind == kind }.count) / Double(max(verdicts.count, 1))
            }
            var scoreMetrics: [OODScoreKind: OODMetricSet] = [:]
            var rejected: [OODScoreKind: Double] = [:]
            for (score, values) in scored.scores {
                if let inScores = inDistribution?.scores[score] {
                    scoreMetrics[score] = try OODMetrics.evaluate(inScores: inScores, outScores: values)
                }
                if let threshold = thresholds[score] {
                    rejected[score] = OODMetrics.rejectionRate(scores: values, threshold: threshold)
                }
            }
            let result = UnknownResult(name: name, count: scored.features.count, verdictShares: shares,
                                       metrics: scoreMetrics, rejectedByScore: rejected,
                                       verdictScore: rule.thresholds[0].score)
            unknownResults.append(result)
            let sharesByName = shares.byName
            let scoresJSON = scoreMetrics.byName.mapValues { set in
                ["auroc": set.auroc, "fpr95": set.fpr95, "aupr_in": set.auprIn, "aupr_out": set.auprOut]
            }
            unknownJSON[name] = ["images": result.count, "verdict": sharesByName,
                                 "in_distribution": inDistribution?.name ?? "", "rejected_by_score": rejected.byName,
                                 "scores": scoresJSON] as [String: Any]
        }
        if !shifted.isEmpty { metrics["shifted"] = shiftJSON }
        if !unknown.isEmpty { metrics["unknown"] = unknownJSON }
        metrics["rule"] = try StudyMetrics.json(rule)
        // The training set is what the head learned from; drawn only when it is all there is.
        let drawn = results.filter { $0.name != "train" || results.count == 1 }
        if let chart = EvaluationChart.make(
            labelled: drawn.map { ($0.name, $0.summary.accuracy, $0.shift) }
                + shiftReports.map { ($0.name, $0.accuracy, $0) },
            unknown: unknownResults) {
            try AtomicFile.write(Data(chart.svg().utf8), to: outFolder.url("verdict.svg"))
        }
        let json = try JSONSerialization.data(withJSONObject: StudyMetrics.sanitize(metrics),
                                              options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(json, to: outFolder.url("metrics.json"))
        return Result(sets: results, shifted: shiftReports, unknown: unknownResults)
    }
}
