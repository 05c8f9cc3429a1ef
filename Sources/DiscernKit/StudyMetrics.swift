import Foundation
import DiscernTraining
import DiscernRobustness

/// metrics.json: the numbers of a run, for scripts and CI.
enum StudyMetrics {
    static func dictionary(_ o: StudyOutcome) throws -> [String: Any] {
        var m: [String: Any] = [:]
        var acc: [String: Any] = ["train": o.train.table!.accuracy, "test": o.test.table!.accuracy]
        if let v = o.validation?.table { acc["validation"] = v.accuracy }
        m["accuracy"] = acc
        m["timing"] = ["train_seconds": o.trainSeconds, "eval_seconds": o.evalSeconds,
                       "robustness_seconds": o.robustnessSeconds, "explain_seconds": o.explainSeconds,
                       "total_seconds": o.trainSeconds + o.evalSeconds + o.robustnessSeconds + o.explainSeconds]
        m["training"] = [
            "backbone": o.options.backbone.rawValue, "weights": URL(fileURLWithPath: o.weightsFile).lastPathComponent,
            "epochs": o.options.epochs, "batch_size": o.options.batchSize, "learning_rate": o.options.learningRate,
            "augment_views": o.options.augmentViews,
            "mode": o.options.augmentViews > 0 ? "cached \(o.options.augmentViews) augmented views" : "fresh augmentation every epoch",
            "seed": o.options.seed, "train_images": o.train.features.count, "validation_images": o.validation?.features.count ?? 0,
            "final_running_accuracy": o.history.epochs.last?.accuracy ?? 0,
            "checkpoints": o.checkpoints.map { URL(fileURLWithPath: $0).lastPathComponent },
        ] as [String: Any]
        m["classification"] = ["test": try json(ClassificationSummary(o.test.table!)), "train": try json(ClassificationSummary(o.train.table!))]
        if let r = o.robustness {
            m["threshold"] = ["score": r.verdict.score, "value": r.verdict.value,
                              "calibrated": o.options.fixedThreshold == nil, "target_acceptance": o.options.acceptFraction,
                              "max_risk": o.options.maxRisk,
                              "per_score": r.thresholds.mapValues(\.value), "default_score_criterion": r.choice.criterion] as [String: Any]
            m["verdict"] = ["rule": try json(r.rule), "unsure_aurc_held_out": r.unsureAURC,
                            "calibration": ["held_out": r.calibration.heldOut, "shifted_copies": r.calibration.shiftedCopies,
                                            "reference_features": r.calibration.reference,
                                            "held_out_accuracy": r.calibration.heldOutAccuracy,
                                            "shifted_accuracy": r.calibration.shiftedAccuracy ?? NSNull(),
                                            "thumbnail_copies": r.calibration.thumbnailCopies,
                                            "thumbnail_accuracy": r.calibration.thumbnailAccuracy ?? NSNull()]
                                as [String: Any]]
                as [String: Any]
            let s = r.testSelective
            m["test"] = ["accepted_fraction": s.coverage, "accuracy_on_accepted": s.accuracyOnAccepted, "accuracy": s.accuracy,
                         "wrong": s.wrong, "wrong_rejected": s.wrongRejected, "right_rejected": s.rightRejected,
                         "accepted": s.accepted, "total": s.total,
                         "correct_accepted_fraction": r.testShift.verdict.correctKept,
                         "verdict": r.testShift.json(),
                         "aurc": r.riskCoverage.mapValues(\.aurc)] as [String: Any]
            var ood: [String: Any] = [:]
            for u in r.unknown {
                ood[u.name] = ["n": u.count, "rejected_fraction": u.rejectedFraction, "unknown_fraction": u.unknownFraction,
                               "rejected_fraction_by_score": u.rejectedFractionByScore,
                               "scores": u.metrics.mapValues { ["auroc": $0.auroc, "fpr95": $0.fpr95, "aupr_in": $0.auprIn, "aupr_out": $0.auprOut] }]
                    as [String: Any]
            }
            m["ood"] = ood
            m["shifted"] = Dictionary(uniqueKeysWithValues: r.shifted.map { ($0.name, $0.json()) })
        }
        if let a = o.attention { m["attention"] = try a.metrics() }
        m["skipped"] = o.skipped.map { ["path": $0.path, "reason": $0.reason] }
        m["memory"] = ["peak_rss_mb": peakResidentMB()]
        return m
    }

    /// Peak resident memory of this process so far (Linux reports ru_maxrss in KiB).
    static func peakResidentMB() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_maxrss) / 1024
    }

    static func json<T: Encodable>(_ v: T) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(v))
    }

    static func data(_ o: StudyOutcome) throws -> Data {
        let sanitized = sanitize(try dictionary(o))
        return try JSONSerialization.data(withJSONObject: sanitized, options: [.prettyPrinted, .sortedKeys])
    }

    /// JSON has no NaN/Infinity: write null instead.
    static func sanitize(_ v: Any) -> Any {
        switch v {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let a as [Any]: return a.map(sanitize)
        case let m as [String: Any]: return m.mapValues(sanitize)
        default: return v
        }
    }
}
