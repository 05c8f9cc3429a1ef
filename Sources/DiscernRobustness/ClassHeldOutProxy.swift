import Foundation

/// Proxy unknowns that are real photos: each class's held-out images in turn, scored by the detector refitted on
/// a reference without that class. The head still knows the class, so these photos get confident logits, as the
/// study's faces, landscapes and apples did; only evidence in the features themselves can set them apart. Together
/// with permuted feature columns (which any score that spots broken feature correlations separates), this keeps the
/// choice of the unknown score from rewarding a score for one kind of outlier only.
public enum ClassHeldOutProxy {
    public static let kind = "each class left out of the reference"

    /// One comparison per class left out: held-out rows of the other classes (in) against that class's rows (out),
    /// for the `scores` asked. At most `maxClasses` classes (spread over the label order), each needing at least
    /// `minimumImages` rows on both sides; fewer eligible classes give fewer comparisons (possibly none).
    public static func comparisons(detector: OODDetector, reference: (features: Matrix, labels: [Int]),
                                   logits: Matrix, features: Matrix, labels: [Int], scores: [OODScoreKind],
                                   maxClasses: Int = 8, minimumImages: Int = 5) throws -> [ProxyComparison] {
        guard logits.rows == labels.count, features.rows == labels.count,
              reference.features.rows == reference.labels.count else {
            throw RobustnessError.shapeMismatch(what: "held-out proxy rows", expected: "\(labels.count) rows",
                                                actual: "\(logits.rows) logits, \(features.rows) features")
        }
        let classes = Set(labels).union(reference.labels).sorted()
        let eligible = classes.filter { c in
            let out = labels.filter { $0 == c }.count
            return out >= minimumImages && labels.count - out >= minimumImages
                && reference.labels.contains(where: { $0 != c })
        }
        let picked = eligible.count <= maxClasses
            ? eligible : (0..<maxClasses).map { eligible[$0 * eligible.count / maxClasses] }
        return try picked.map { c in
            let kept = reference.labels.indices.filter { reference.labels[$0] != c }
            let refitted = detector.refitted(reference: reference.features.selectingRows(kept),
                                             labels: kept.map { reference.labels[$0] }, only: Set(scores))
            let available = Set(refitted.available())
            let inRows = labels.indices.filter { labels[$0] != c }
            let outRows = labels.indices.filter { labels[$0] == c }
            var inScores: [OODScoreKind: [Double]] = [:]
            var outScores: [OODScoreKind: [Double]] = [:]
            for score in scores where available.contains(score) {
                inScores[score] = try refitted.scores(score, logits: logits.selectingRows(inRows),
                                                      features: features.selectingRows(inRows))
                outScores[score] = try refitted.scores(score, logits: logits.selectingRows(outRows),
                                                       features: features.selectingRows(outRows))
            }
            return ProxyComparison(kind: kind, inScores: inScores, outScores: outScores)
        }
    }
}

extension OODDetector {
    /// This detector with the scores fitted on the feature reference (Mahalanobis, kNN, ViM, ReAct) fitted again
    /// on `reference`, which may lack classes: Mahalanobis then measures the distance to the classes present.
    /// A score that cannot be fitted there, or is not in `only`, is left out; the logit densities and the head are
    /// kept.
    func refitted(reference features: Matrix, labels: [Int], only: Set<OODScoreKind>) -> OODDetector {
        var why = unavailable
        func attempt<T>(_ kind: OODScoreKind, _ had: Bool, _ body: () throws -> T) -> T? {
            guard had, only.contains(kind) else {
                why[kind] = why[kind] ?? "not refitted"
                return nil
            }
            do { return try body() } catch {
                why[kind] = "\(error)"
                return nil
            }
        }
        let present = Set(labels).sorted()
        let compact = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
        let mahalanobis = attempt(.mahalanobis, self.mahalanobis != nil) {
            try MahalanobisScore.fit(features: features, labels: labels.map { compact[$0]! }, classes: present.count,
                                     ridge: configuration.mahalanobisRidge)
        }
        let knn = attempt(.knn, self.knn != nil) { try KNNScore.fit(features: features, k: configuration.knnK) }
        let vim = attempt(.vim, self.vim != nil && head != nil) {
            try ViMScore.fit(features: features, head: head!, principal: configuration.vimPrincipal)
        }
        let react = attempt(.react, self.react != nil && head != nil) {
            try ReActScore.fit(features: features, head: head!, percentile: configuration.reactPercentile)
        }
        return OODDetector(
            configuration: configuration, classCount: classCount, featureCount: featureCount, density: density,
            classDensity: classDensity, jointDensity: jointDensity, mahalanobis: mahalanobis, knn: knn, head: head,
            vim: vim, react: react, referenceCount: features.rows, unavailable: why)
    }
}
