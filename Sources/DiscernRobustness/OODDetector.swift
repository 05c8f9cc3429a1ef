import Foundation
import DiscernEngine

/// Everything needed to compute every OOD score for new images, fitted once on the training set's
/// logits (test transform), labels and penultimate features. Codable, for the model file.
public struct OODDetector: Codable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public var bandwidth: GaussianKDE.Bandwidth = .scott
        public var knnK: Int = 10
        /// Relative ridge added to the Mahalanobis covariance (× mean variance).
        public var mahalanobisRidge: Double = 1e-6
        /// ReAct clips at this percentile of the reference activations (the paper's 90).
        public var reactPercentile: Double = 90
        /// SCALE and ASH-S keep the top (100 − p)% of activations (OpenOOD's 85).
        public var shapingPercentile: Double = 85
        /// ViM's principal dimension; nil = the paper's rule for the feature count.
        public var vimPrincipal: Int?
        public init(
            bandwidth: GaussianKDE.Bandwidth = .scott, knnK: Int = 10, mahalanobisRidge: Double = 1e-6,
            reactPercentile: Double = 90, shapingPercentile: Double = 85, vimPrincipal: Int? = nil
        ) {
            self.bandwidth = bandwidth
            self.knnK = knnK
            self.mahalanobisRidge = mahalanobisRidge
            self.reactPercentile = reactPercentile
            self.shapingPercentile = shapingPercentile
            self.vimPrincipal = vimPrincipal
        }
        enum CodingKeys: String, CodingKey {
            case bandwidth, knnK, mahalanobisRidge, reactPercentile, shapingPercentile, vimPrincipal
        }
        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                bandwidth: try container.decode(GaussianKDE.Bandwidth.self, forKey: .bandwidth),
                knnK: try container.decode(Int.self, forKey: .knnK),
                mahalanobisRidge: try container.decode(Double.self, forKey: .mahalanobisRidge),
                reactPercentile: try container.decodeIfPresent(Double.self, forKey: .reactPercentile) ?? 90,
                shapingPercentile: try container.decodeIfPresent(Double.self, forKey: .shapingPercentile) ?? 85,
                vimPrincipal: try container.decodeIfPresent(Int.self, forKey: .vimPrincipal))
        }
    }

    public let configuration: Configuration
    public let classCount: Int
    public let featureCount: Int?
    /// Per-class 1-D KDEs of the training logits (column k over all training images).
    public let density: LogitDensityScore
    public let classDensity: ClassDensityScore?
    public let jointDensity: JointDensityScore?
    public let mahalanobis: MahalanobisScore?
    public let knn: KNNScore?
    /// The trained head, for the scores that re-run it; nil when fitted without one.
    public let head: LinearMap?
    public let vim: ViMScore?
    public let react: ReActScore?
    /// Rows of the reference the feature scores were fitted on (training features, plus augmented views).
    public let referenceCount: Int?
    /// Why a score could not be fitted (e.g. a singular covariance), by score.
    public let unavailable: [OODScoreKind: String]

    /// Fits all scores. `density` must succeed; the others are left out (with the reason in
    /// `unavailable`) when their statistics are degenerate, and the feature scores need `trainFeatures`.
    /// The logit densities use the training logits; the feature scores use `reference` (default: the training
    /// features), e.g. the training features together with augmented views of the training images, so that
    /// what counts as "a photo of a trained class" covers more than one framing of each photo. ViM, ReAct,
    /// SCALE and ASH-S need the `head`.
    public static func fit(trainLogits: Matrix, trainLabels: [Int], trainFeatures: Matrix? = nil,
                           reference: (features: Matrix, labels: [Int])? = nil, head: LinearMap? = nil,
                           configuration: Configuration = Configuration()) throws -> OODDetector {
        guard trainLogits.rows > 0, trainLogits.cols > 0 else { throw RobustnessError.empty(what: "training logits") }
        try trainLogits.checkFinite("training logits")
        _ = try groupRows(labels: trainLabels, classes: trainLogits.cols, rows: trainLogits.rows)
        if let trainFeatures, trainFeatures.rows != trainLogits.rows {
            throw RobustnessError.shapeMismatch(
                what: "training features", expected: "\(trainLogits.rows) rows", actual: "\(trainFeatures.rows)")
        }
        var why: [OODScoreKind: String] = [:]
        func attempt<T>(_ kind: OODScoreKind, _ body: () throws -> T) -> T? {
            do { return try body() } catch {
                why[kind] = "\(error)"
                return nil
            }
        }
        let bandwidth = configuration.bandwidth
        let density = LogitDensityScore(
            kdes: try LogitDensityScore.fitKDEs(trainLogits: trainLogits, bandwidth: bandwidth))
        let classDensity = attempt(.classDensity) {
            try ClassDensityScore.fit(trainLogits: trainLogits, labels: trainLabels, bandwidth: bandwidth)
        }
        let jointDensity = attempt(.jointDensity) {
            JointDensityScore(kde: try GaussianKDE(dataset: trainLogits, bandwidth: bandwidth))
        }
        var mahalanobis: MahalanobisScore?
        var knn: KNNScore?
        var vim: ViMScore?
        var react: ReActScore?
        var map: LinearMap?
        let fitted = reference ?? trainFeatures.map { ($0, trainLabels) }
        if let fitted {
            let features = fitted.0
            let labels = fitted.1
            if let given = reference, given.features.cols != trainFeatures?.cols ?? given.features.cols {
                throw RobustnessError.shapeMismatch(
                    what: "reference features", expected: "\(trainFeatures?.cols ?? 0) columns",
                    actual: "\(given.features.cols)")
            }
            mahalanobis = attempt(.mahalanobis) {
                try MahalanobisScore.fit(features: features, labels: labels, classes: trainLogits.cols,
                                         ridge: configuration.mahalanobisRidge)
            }
            knn = attempt(.knn) { try KNNScore.fit(features: features, k: configuration.knnK) }
            if let head {
                if head.features == features.cols && head.classes == trainLogits.cols {
                    map = head
                    vim = attempt(.vim) {
                        try ViMScore.fit(features: features, head: head, principal: configuration.vimPrincipal)
                    }
                    react = attempt(.react) {
                        try ReActScore.fit(features: features, head: head, percentile: configuration.reactPercentile)
                    }
                } else {
                    throw RobustnessError.shapeMismatch(what: "head", expected: "\(trainLogits.cols)x\(features.cols)",
                                                        actual: "\(head.classes)x\(head.features)")
                }
            }
        } else {
            for kind in OODScoreKind.allCases where kind.needsFeatures { why[kind] = "no training features" }
        }
        if map == nil && fitted != nil {
            for kind in [OODScoreKind.vim, .react, .scale, .ash] { why[kind] = "no head given" }
        }
        return OODDetector(
            configuration: configuration, classCount: trainLogits.cols, featureCount: trainFeatures?.cols,
            density: density, classDensity: classDensity, jointDensity: jointDensity, mahalanobis: mahalanobis,
            knn: knn, head: map, vim: vim, react: react, referenceCount: fitted?.features.rows, unavailable: why)
    }

    /// The scorer for `kind`, or a readable error if it was not fitted.
    public func scorer(_ kind: OODScoreKind) throws -> OODScore {
        let candidate: OODScore?
        switch kind {
        case .density: candidate = density
        case .densitySeed: candidate = LogitDensityScore(kdes: density.kdes, seedVariant: true)
        case .classDensity: candidate = classDensity
        case .jointDensity: candidate = jointDensity
        case .msp: candidate = MSPScore()
        case .maxlogit: candidate = MaxLogitScore()
        case .energy: candidate = EnergyScore()
        case .mahalanobis: candidate = mahalanobis
        case .knn: candidate = knn
        case .gen: candidate = GENScore()
        case .vim: candidate = vim
        case .react: candidate = react
        case .scale:
            candidate = try head.map {
                try ActivationShapingScore(head: $0, method: .scale, percentile: configuration.shapingPercentile)
            }
        case .ash:
            candidate = try head.map {
                try ActivationShapingScore(head: $0, method: .ashS, percentile: configuration.shapingPercentile)
            }
        }
        guard let found = candidate else {
            throw RobustnessError.invalidArgument(
                "score '\(kind.rawValue)' is not available: \(unavailable[kind] ?? "not fitted")")
        }
        return found
    }

    /// Scores that can be computed (features given or not).
    public func available(withFeatures: Bool = true) -> [OODScoreKind] {
        OODScoreKind.allCases.filter { (try? scorer($0)) != nil && (withFeatures || !$0.needsFeatures) }
    }

    public func scores(_ kind: OODScoreKind, logits: Matrix, features: Matrix? = nil) throws -> [Double] {
        try scorer(kind).score(logits: logits, features: features)
    }

    /// Every available score; feature scores are skipped when `features` is nil.
    public func allScores(logits: Matrix, features: Matrix? = nil) throws -> [OODScoreKind: [Double]] {
        var out: [OODScoreKind: [Double]] = [:]
        for kind in available(withFeatures: features != nil) {
            out[kind] = try scores(kind, logits: logits, features: features)
        }
        return out
    }
}

/// Synthetic outliers for choosing the default score when no real unknowns exist at calibration time.
public enum ProxyOutliers {
    /// Each feature column permuted independently across the rows (seeded): every marginal is kept,
    /// the joint structure that real images have is destroyed. Map them to logits with the head.
    public static func permutedColumns(_ x: Matrix, seed: UInt64 = 0x5EED) -> Matrix {
        var rng = SplitMix64(state: seed)
        var out = x
        for c in 0..<x.cols {
            var idx = Array(0..<x.rows)
            for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for r in 0..<x.rows { out[r, c] = x[idx[r], c] }
        }
        return out
    }
}
