import Foundation
import DiscernTraining
import DiscernRobustness

/// metrics.json: the numbers of a run, for scripts and CI.
enum StudyMetrics {
    static func dictionary(_ outcome: StudyOutcome) throws -> [String: Any] {
        let options = outcome.options
        var metrics: [String: Any] = [:]
        var accuracy: [String: Any] = ["train": outcome.train.table.accuracy, "test": outcome.test.table.accuracy]
        if let validation = outcome.validation { accuracy["validation"] = validation.table.accuracy }
        metrics["accuracy"] = accuracy
        let total = outcome.trainSeconds + outcome.evalSeconds + outcome.robustnessSeconds + outcome.explainSeconds
        metrics["timing"] = ["train_seconds": outcome.trainSeconds, "eval_seconds": outcome.evalSeconds,
                             "robustness_seconds": outcome.robustnessSeconds,
                             "explain_seconds": outcome.explainSeconds, "total_seconds": total]
        let mode = options.augmentationSummary
        metrics["training"] = [
            "backbone": options.backbone.rawValue,
            "weights": URL(fileURLWithPath: outcome.weightsFile).lastPathComponent,
            "epochs": options.epochs, "batch_size": options.batchSize, "learning_rate": options.learningRate,
            "augment_views": options.augmentViews, "degradation": options.degradation,
            "degraded_views": options.degradedViews, "mode": mode, "seed": options.seed,
            "train_images": outcome.train.features.count,
            "validation_images": outcome.validation?.features.count ?? 0,
            "final_running_accuracy": outcome.history.epochs.last?.accuracy ?? 0,
            "checkpoints": outcome.checkpoints.map { URL(fileURLWithPath: $0).lastPathComponent },
        ] as [String: Any]
        metrics["classification"] = ["test": try json(ClassificationSummary(outcome.test.table)),
                                     "train": try json(ClassificationSummary(outcome.train.table))]
        let robustness = outcome.robustness
        metrics["threshold"] = [
            "score": robustness.verdict.score.rawValue, "value": robustness.verdict.value,
            "calibrated": options.fixedThreshold == nil, "target_acceptance": options.acceptFraction,
            "max_risk": options.maxRisk, "per_score": robustness.thresholds.byName.mapValues(\.value),
            "default_score_criterion": robustness.choice.criterion,
        ] as [String: Any]
        let calibration = robustness.calibration
        let calibrationMetrics: [String: Any] = [
            "held_out": calibration.heldOut, "shifted_copies": calibration.shiftedCopies,
            "reference_features": calibration.reference, "held_out_accuracy": calibration.heldOutAccuracy,
            "shifted_accuracy": calibration.shiftedAccuracy ?? NSNull(),
            "thumbnail_copies": calibration.thumbnailCopies,
            "thumbnail_accuracy": calibration.thumbnailAccuracy ?? NSNull(),
            "low_resolution_below": calibration.lowResolutionBelow,
            "low_resolution_images": calibration.lowResolutionImages,
        ]
        metrics["verdict"] = ["rule": try json(robustness.rule), "unsure_aurc_held_out": robustness.unsureAURC.byName,
                              "calibration": calibrationMetrics] as [String: Any]
        let selective = robustness.testSelective
        metrics["test"] = [
            "accepted_fraction": selective.coverage, "accuracy_on_accepted": selective.accuracyOnAccepted,
            "accuracy": selective.accuracy, "wrong": selective.wrong, "wrong_rejected": selective.wrongRejected,
            "right_rejected": selective.rightRejected, "accepted": selective.accepted, "total": selective.total,
            "correct_accepted_fraction": robustness.testShift.verdict.correctKept,
            "verdict": robustness.testShift.json(), "aurc": robustness.riskCoverage.byName.mapValues(\.aurc),
        ] as [String: Any]
        var ood: [String: Any] = [:]
        for unknown in robustness.unknown {
            let scores = unknown.metrics.byName.mapValues { set in
                ["auroc": set.auroc, "fpr95": set.fpr95, "aupr_in": set.auprIn, "aupr_out": set.auprOut]
            }
            ood[unknown.name] = ["n": unknown.count, "rejected_fraction": unknown.rejectedFraction,
                                 "unknown_fraction": unknown.unknownFraction,
                                 "rejected_fraction_by_score": unknown.rejectedFractionByScore.byName,
                                 "scores": scores] as [String: Any]
        }
        metrics["ood"] = ood
        metrics["shifted"] = Dictionary(uniqueKeysWithValues: robustness.shifted.map { ($0.name, $0.json()) })
        if let attention = outcome.attention { metrics["attention"] = try attention.metrics() }
        metrics["skipped"] = outcome.skipped.map { ["path": $0.path, "reason": $0.reason] }
        metrics["memory"] = ["peak_rss_mb": peakResidentMB()]
        return metrics
    }

    /// Peak resident memory of this process so far (Linux reports ru_maxrss in KiB).
    static func peakResidentMB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    static func json<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
    }

    static func data(_ outcome: StudyOutcome) throws -> Data {
        let sanitized = sanitize(try dictionary(outcome))
        return try JSONSerialization.data(withJSONObject: sanitized, options: [.prettyPrinted, .sortedKeys])
    }

    /// JSON has no NaN/Infinity: write null instead.
    static func sanitize(_ value: Any) -> Any {
        switch value {
        case let number as Double: return number.isFinite ? number : NSNull()
        case let number as Float: return number.isFinite ? Double(number) : NSNull()
        case let array as [Any]: return array.map(sanitize)
        case let object as [String: Any]: return object.mapValues(sanitize)
        default: return value
        }
    }
}
