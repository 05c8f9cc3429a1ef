import Foundation
import DiscernEngine
import DiscernVision
import DiscernTraining
import DiscernRobustness
import DiscernWeights

/// `discern evaluate`: a saved model on labelled image folders — accuracy, confusion matrix,
/// per-class precision/recall, per-image tables, and the verdict's effect when the model has one.
public enum ModelEvaluation {
    public struct SetResult: Sendable {
        public var name: String
        public var summary: ClassificationSummary
        public var selective: SelectiveResult?
    }

    public static func run(modelPath: String, data: String, out: String, force: Bool) throws -> [SetResult] {
        let service = try DiscernModelService.load(path: modelPath)
        let folder = try OutputFolder(out, force: force)
        let extractor = try FeatureExtractor(backbone: service.backbone)
        let root = URL(fileURLWithPath: data)
        guard FileManager.default.fileExists(atPath: data) else { throw KitError.missingFile(data, what: "data folder") }
        var sets: [(String, String)] = []
        for (name, dirs) in [("train", ["training_set", "train"]), ("test", ["test_set", "test"])] {
            if let d = dirs.first(where: { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }) {
                sets.append((name, root.appendingPathComponent(d).path))
            }
        }
        if sets.isEmpty { sets = [("data", data)] }   // a plain image folder
        var results: [SetResult] = []
        var metrics: [String: Any] = [:]
        for (name, dir) in sets {
            let f = try StudyData.openFolder(dir)
            guard f.classes == service.model.metadata.classes else {
                throw KitError.badData(dir, "classes \(f.classes) differ from the model's \(service.model.metadata.classes)")
            }
            for s in f.skipped { Study.log(s.description) }
            let feats = try extractor.extract(f.samples, augment: false, title: "features (\(name))")
            let logits = try service.model.head.logits(feats.features)
            let table = try PredictionTable(classes: f.classes, paths: feats.paths, labels: feats.labels, logits: logits)
            try table.writeCSV(to: folder.url("\(name).csv"))
            try table.writeJSON(to: folder.url("\(name).json"))
            let summary = try ClassificationSummary(table)
            var selective: SelectiveResult?
            if let d = service.model.detector, let t = service.model.metadata.threshold {
                let s = try d.scores(try OODScoreKind(name: t.score), logits: try Matrix(logits), features: try Matrix(feats.features))
                selective = try Selective.evaluate(correct: table.rows.map(\.correct), scores: s, threshold: t.value)
            }
            results.append(SetResult(name: name, summary: summary, selective: selective))
            var m: [String: Any] = ["accuracy": summary.accuracy, "images": summary.images, "summary": try StudyMetrics.json(summary)]
            if let s = selective { m["selective"] = try StudyMetrics.json(s) }
            metrics[name] = m
        }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: StudyMetrics.sanitize(metrics), options: [.prettyPrinted, .sortedKeys]),
                              to: folder.url("metrics.json"))
        return results
    }
}
