import Foundation
import DiscernEngine
import DiscernRobustness

/// The proxy unknowns that choose the unknown score, made from the held-out photos alone (no `--unknown` folder):
/// feature columns permuted independently (any score that notices broken feature correlations separates these;
/// they screen), each class's photos against a reference without that class (real photos that get confident
/// logits), and enlarged close-ups of the photos (pictures of something, but of no whole trained object); these
/// two rank.
struct UnknownScoreProxies {
    let detector: OODDetector
    let reference: (features: Matrix, labels: [Int])
    let set: RobustnessOutcome.CalibrationSet
    let permutedScores: [OODScoreKind: [Double]]
    /// Nil without detail copies (no validation split, or `--detail-copies 0`).
    let detailScores: [OODScoreKind: [Double]]?

    init(detector: OODDetector, head: LinearParams, heldOut: EvaluatedSet, copies: CalibrationCopies,
         set: RobustnessOutcome.CalibrationSet, reference: (features: Matrix, labels: [Int]), seed: UInt64) throws {
        self.detector = detector
        self.reference = reference
        self.set = set
        let permuted = ProxyOutliers.permutedColumns(try Matrix(heldOut.features.features), seed: seed)
        let permutedTensor = Tensor(shape: heldOut.features.features.shape, data: permuted.values.map(Float.init))
        permutedScores = try detector.allScores(logits: Matrix(try head.logits(permutedTensor)), features: permuted)
        detailScores = try copies.details.map {
            try detector.allScores(logits: Matrix($0.logits), features: Matrix($0.features.features))
        }
    }

    /// Every comparison of `candidates` (the pooled held-out scores) against the proxies, for
    /// `Calibration.chooseDefault`.
    func comparisons(_ candidates: [OODScoreKind: [Double]]) throws -> [ProxyComparison] {
        func against(_ kind: String, _ outScores: [OODScoreKind: [Double]], role: ProxyRole = .ranks)
            -> ProxyComparison
        {
            ProxyComparison(kind: kind, inScores: candidates, outScores: outScores.filter { candidates[$0.key] != nil },
                            role: role)
        }
        let classHeldOut = try ClassHeldOutProxy.comparisons(
            detector: detector, reference: reference, logits: set.logits, features: set.features,
            labels: set.labels, scores: Array(candidates.keys))
        // No photo gives permuted columns, so they only screen out the scores blind to broken feature
        // correlations; how many pass a threshold is judged on the photos.
        return [against("permuted feature columns", permutedScores, role: .screens)] + classHeldOut
            + (detailScores.map { [against("enlarged close-ups", $0)] } ?? [])
    }
}

extension RobustnessOutcome {
    /// "knn 58.3% pass (each class left out of the reference 35.5%, ...)" with each kind's AUROC, for the three
    /// candidates with the best worst case, best first; "screened out" marks one that did not separate a
    /// screening kind.
    static func choiceSummary(_ choice: Calibration.Choice) -> String {
        let kinds = choice.byKind.keys.sorted()
        return choice.ranked.prefix(3).map { score, worst in
            let parts = kinds.compactMap { kind in
                choice.byKind[kind]?[score].map {
                    String(format: "%@ %.1f%%, AUROC %.4f", kind, 100 * $0.passing, $0.auroc)
                }
            }
            return String(format: "%@ %.1f%% pass%@ (%@)", score.rawValue, 100 * worst.passing,
                          choice.screenedOut.contains(score) ? ", screened out" : "", parts.joined(separator: "; "))
        }.joined(separator: " | ")
    }
}
