import Foundation
import DiscernEngine
import DiscernVision
import DiscernTraining
import DiscernRobustness
import DiscernWeights

/// `discern evaluate`: a saved model on labelled image folders — accuracy, confusion matrix, per-class
/// precision/recall, per-image tables — and what its verdict does on photos from elsewhere (`shifted`: folders
/// with the class sub-folders) and on images of other things (`unknown`: any folders of images).
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
        public var metrics: [String: OODMetricSet]
        /// Per score, the share its own calibrated threshold rejects.
        public var rejectedByScore: [String: Double]
        public var verdictScore: String
        public var line: String {
            let m = metrics[verdictScore]
            return String(format: "%@: %d images, %.1f%% rejected (%.1f%% unknown, %.1f%% unsure); %@ AUROC %.4f, FPR95 %.4f", name, count,
                          100 * (1 - (verdictShares[.accept] ?? 0)), 100 * (verdictShares[.unknown] ?? 0),
                          100 * (verdictShares[.unsure] ?? 0), verdictScore, m?.auroc ?? .nan, m?.fpr95 ?? .nan)
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
        var scores: [String: [Double]]
    }

    /// With `cache`, each folder's features are kept there and reused by a later evaluation of a model with the same
    /// backbone weights (same images, same transform): comparing two calibrations of one run costs one extraction.
    public static func run(modelPath: String, data: String, unknown: [String] = [], shifted: [String] = [], out: String,
                           force: Bool, cache: String? = nil) throws -> Result {
        let service = try DiscernModelService.load(path: modelPath)
        guard FileManager.default.fileExists(atPath: data) else { throw KitError.missingFile(data, what: "data folder") }
        for dir in unknown + shifted where !FileManager.default.fileExists(atPath: dir) {
            throw KitError.missingFile(dir, what: unknown.contains(dir) ? "--unknown folder" : "--shifted folder")
        }
        let folder = try OutputFolder(out, force: force)
        let extractor = try FeatureExtractor(backbone: service.backbone)
        let classes = service.model.metadata.classes
        let rule = service.rule, thresholds = service.model.metadata.thresholds
        func score(_ name: String, _ samples: [ImageFolder.Sample]) throws -> Scored {
            let feats = try extractor.extract(samples, augment: false, title: "features (\(name))",
                                              cache: cache.map { FeatureCacheFile(dir: URL(fileURLWithPath: $0)) },
                                              name: "evaluate-\(name)",
                                              weights: service.model.metadata.training.weightsFile ?? "model")
            let logits = try service.model.head.logits(feats.features)
            let scores = try service.model.detector?.allScores(logits: try Matrix(logits), features: try Matrix(feats.features)) ?? [:]
            return Scored(name: name, features: feats, logits: logits, scores: scores)
        }
        func labelled(_ dir: String) throws -> ImageFolder {
            let f = try StudyData.openFolder(dir)
            guard f.classes == classes else {
                throw KitError.badData(dir, "classes \(f.classes) differ from the model's \(classes)")
            }
            for s in f.skipped { Study.log(s.description) }
            return f
        }
        let storedThresholds = Dictionary(uniqueKeysWithValues: thresholds.map { ($0.key, OODThreshold(score: $0.key, value: $0.value)) })
        let root = URL(fileURLWithPath: data)
        var sets: [(String, String)] = []
        for (name, dirs) in [("train", ["training_set", "train"]), ("test", ["test_set", "test"])] {
            if let d = dirs.first(where: { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }) {
                sets.append((name, root.appendingPathComponent(d).path))
            }
        }
        if sets.isEmpty { sets = [("data", data)] }   // a plain image folder
        var results: [SetResult] = [], metrics: [String: Any] = [:]
        var inDistribution: Scored?
        for (name, dir) in sets {
            let f = try labelled(dir)
            let s = try score(name, f.samples)
            let table = try PredictionTable(classes: f.classes, paths: s.features.paths, labels: s.features.labels, logits: s.logits)
            try table.writeCSV(to: folder.url("\(name).csv"))
            try table.writeJSON(to: folder.url("\(name).json"))
            let summary = try ClassificationSummary(table)
            let correct = table.rows.map(\.correct)
            var selective: SelectiveResult?, shift: ShiftReport?
            if service.model.detector != nil {
                let verdicts = rule.verdicts(s.scores, count: correct.count)
                selective = try Selective.evaluate(correct: correct, accepted: verdicts.map(\.isAccepted))
                shift = try ShiftReport.make(name: name, correct: correct, scores: s.scores, rule: rule, thresholds: storedThresholds)
            }
            results.append(SetResult(name: name, summary: summary, selective: selective, shift: shift))
            var m: [String: Any] = ["accuracy": summary.accuracy, "images": summary.images, "summary": try StudyMetrics.json(summary)]
            if let s = selective { m["selective"] = try StudyMetrics.json(s) }
            if let s = shift { m["verdict"] = s.json() }
            metrics[name] = m
            if name != "train" || inDistribution == nil { inDistribution = s }
        }
        var shiftReports: [ShiftReport] = [], shiftJSON: [String: Any] = [:]
        for dir in shifted {
            let name = URL(fileURLWithPath: dir).lastPathComponent
            let f = try labelled(dir)
            let s = try score(name, f.samples)
            let predicted = argmaxRows(try Matrix(s.logits))
            let correct = zip(predicted, s.features.labels).map { $0 == $1 }
            let report = try ShiftReport.make(name: name, correct: correct, scores: s.scores, rule: rule, thresholds: storedThresholds)
            shiftReports.append(report)
            shiftJSON[name] = report.json()
        }
        var unknownResults: [UnknownResult] = [], unknownJSON: [String: Any] = [:]
        for dir in unknown {
            let name = URL(fileURLWithPath: dir).lastPathComponent
            let s = try score(name, try StudyData.looseImages(dir))
            let verdicts = rule.verdicts(s.scores, count: s.features.count)
            var shares: [VerdictKind: Double] = [:]
            for k in VerdictKind.allCases { shares[k] = Double(verdicts.filter { $0.kind == k }.count) / Double(max(verdicts.count, 1)) }
            var m: [String: OODMetricSet] = [:], rejected: [String: Double] = [:]
            for (k, v) in s.scores {
                if let ins = inDistribution?.scores[k] { m[k] = try OODMetrics.evaluate(inScores: ins, outScores: v) }
                if let t = thresholds[k] { rejected[k] = OODMetrics.rejectionRate(scores: v, threshold: t) }
            }
            let r = UnknownResult(name: name, count: s.features.count, verdictShares: shares, metrics: m, rejectedByScore: rejected,
                                  verdictScore: rule.thresholds[0].score)
            unknownResults.append(r)
            unknownJSON[name] = ["images": r.count, "verdict": Dictionary(uniqueKeysWithValues: shares.map { ($0.key.rawValue, $0.value) }),
                                 "in_distribution": inDistribution?.name ?? "", "rejected_by_score": rejected,
                                 "scores": m.mapValues { ["auroc": $0.auroc, "fpr95": $0.fpr95, "aupr_in": $0.auprIn, "aupr_out": $0.auprOut] }]
                as [String: Any]
        }
        if !shifted.isEmpty { metrics["shifted"] = shiftJSON }
        if !unknown.isEmpty { metrics["unknown"] = unknownJSON }
        metrics["rule"] = try StudyMetrics.json(rule)
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: StudyMetrics.sanitize(metrics), options: [.prettyPrinted, .sortedKeys]),
                             to: folder.url("metrics.json"))
        return Result(sets: results, shifted: shiftReports, unknown: unknownResults)
    }
}
