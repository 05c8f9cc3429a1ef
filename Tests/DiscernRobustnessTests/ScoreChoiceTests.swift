import XCTest
import DiscernEngine
@testable import DiscernRobustness

final class ScoreChoiceTests: XCTestCase {
    /// knn separates permuted features perfectly but lets one left-out class through; mahalanobis is fair on both
    /// kinds. Shares and AUROCs below are counted by hand. At 95% acceptance of 4 in-distribution scores the
    /// threshold is the 4th largest, 5: "passing" is the share of outliers scoring 5 or more; AUROC is the share
    /// of (in, out) pairs with in > out.
    func testChoiceTakesEachScoresWorstProxyKindAtTheThreshold() throws {
        let inScores: [OODScoreKind: [Double]] = [.knn: [5, 6, 7, 8], .mahalanobis: [5, 6, 7, 8]]
        let permuted = ProxyComparison(kind: "permuted", inScores: inScores,
                                       outScores: [.knn: [0, 1], .mahalanobis: [4, 5.5]])  // pass 0 and 1/2
        let classA = ProxyComparison(kind: "class", inScores: inScores,
                                     outScores: [.knn: [7.5, 9], .mahalanobis: [1, 2]])  // pass 1 and 0
        let classB = ProxyComparison(kind: "class", inScores: inScores,
                                     outScores: [.knn: [6.5, 4], .mahalanobis: [6.5, 3]])  // pass 1/2 and 1/2
        let choice = try Calibration.chooseDefault(comparisons: [permuted, classA, classB], acceptFraction: 0.95)
        XCTAssertEqual(choice.byKind["permuted"]?[.knn], ProxyResult(passing: 0, auroc: 1))
        XCTAssertEqual(choice.byKind["permuted"]?[.mahalanobis], ProxyResult(passing: 0.5, auroc: 7.0 / 8))
        XCTAssertEqual(choice.byKind["class"]?[.knn]?.passing, 0.75)                    // mean over the kind
        XCTAssertEqual(choice.byKind["class"]?[.knn]?.auroc, (1.0 / 8 + 6.0 / 8) / 2)
        XCTAssertEqual(choice.byKind["class"]?[.mahalanobis], ProxyResult(passing: 0.25, auroc: (1 + 6.0 / 8) / 2))
        XCTAssertEqual(choice.table[.knn]?.passing, 0.75)                               // its worst kind
        XCTAssertEqual(choice.table[.mahalanobis], ProxyResult(passing: 0.5, auroc: 7.0 / 8))
        XCTAssertEqual(choice.score, .mahalanobis)
        XCTAssertEqual(choice.ranked.map(\.score), [.mahalanobis, .knn])
        // With the permuted kind alone, knn's perfect separation wins.
        XCTAssertEqual(try Calibration.chooseDefault(comparisons: [permuted]).score, .knn)
        // A score missing from one comparison is not a candidate.
        var partial = classB
        partial.outScores[.mahalanobis] = nil
        XCTAssertEqual(try Calibration.chooseDefault(comparisons: [permuted, classA, partial]).score, .knn)
        XCTAssertThrowsError(try Calibration.chooseDefault(comparisons: []))
    }

    /// A screening kind (permuted feature columns: no photo produces them) only excludes the scores that do not
    /// separate it; the photo kinds rank. In-distribution scores 1...20, so at 95% acceptance the threshold is the
    /// 19th largest, 2. knn lets both permuted rows (2.5) through but ranks 18 of 20 in-scores above them (AUROC
    /// 0.9, enough); energy ranks only 10 of 20 above 10.5 (AUROC 0.5) and is screened out although it is perfect
    /// on the close-ups; mahalanobis lets the close-up at 3.5 through (passing 1/2; AUROC (17 + 20) / 40).
    func testScreeningKindExcludesButDoesNotRank() throws {
        let inScores = (1...20).map(Double.init)
        let candidates: [OODScoreKind: [Double]] = [.knn: inScores, .mahalanobis: inScores, .energy: inScores]
        func comparisons(permutedRole: ProxyRole) -> [ProxyComparison] {
            [ProxyComparison(kind: "permuted", inScores: candidates,
                             outScores: [.knn: [2.5, 2.5], .mahalanobis: [-1, -1], .energy: [10.5, 10.5]],
                             role: permutedRole),
             ProxyComparison(kind: "close-ups", inScores: candidates,
                             outScores: [.knn: [0, 0], .mahalanobis: [3.5, 0], .energy: [-5, -5]])]
        }
        let choice = try Calibration.chooseDefault(comparisons: comparisons(permutedRole: .screens))
        XCTAssertEqual(choice.byKind["permuted"]?[.knn], ProxyResult(passing: 1, auroc: 0.9))
        XCTAssertEqual(choice.byKind["permuted"]?[.energy], ProxyResult(passing: 1, auroc: 0.5))
        XCTAssertEqual(choice.screenedOut, [.energy])
        XCTAssertEqual(choice.table[.knn], ProxyResult(passing: 0, auroc: 1))           // the close-ups, not permuted
        XCTAssertEqual(choice.table[.mahalanobis]?.passing, 0.5)
        XCTAssertEqual(try XCTUnwrap(choice.table[.mahalanobis]?.auroc), 37.0 / 40, accuracy: 1e-12)
        XCTAssertEqual(choice.ranked.map(\.score), [.knn, .mahalanobis, .energy])
        XCTAssertEqual(choice.score, .knn)
        XCTAssertTrue(choice.criterion.contains("fewest close-ups passing"), choice.criterion)
        XCTAssertTrue(choice.criterion.contains("separate permuted (AUROC at least 0.9)"), choice.criterion)
        // Had the permuted rows ranked too, knn's worst kind would let all of them through and mahalanobis win.
        let ranking = try Calibration.chooseDefault(comparisons: comparisons(permutedRole: .ranks))
        XCTAssertEqual(ranking.screenedOut, [])
        XCTAssertEqual(ranking.score, .mahalanobis)
        // A screen that every candidate fails excludes none (energy and knn tie on the close-ups: the earlier in
        // OODScoreKind.allCases wins); screening kinds alone rank.
        var allFail = comparisons(permutedRole: .screens)
        allFail[0].outScores = [.knn: [15, 15], .mahalanobis: [15, 15], .energy: [15, 15]]
        XCTAssertEqual(try Calibration.chooseDefault(comparisons: allFail).screenedOut, [])
        XCTAssertEqual(try Calibration.chooseDefault(comparisons: allFail).score, .energy)
        let alone = try Calibration.chooseDefault(comparisons: [comparisons(permutedRole: .screens)[0]])
        XCTAssertEqual(alone.screenedOut, [])
        XCTAssertEqual(alone.score, .mahalanobis)                                       // passing 0 there
    }

    /// The operating point decides, not the ranking as a whole. In-distribution scores 1...10; at 90% acceptance
    /// the threshold is the 9th largest, 2. mahalanobis ranks its outliers better (AUROC 48/50: every pair but
    /// those of 2.5 with 1 and 2) but lets 2.5 through; knn (AUROC 45/50: 1.5 beats the in-score 1 five times)
    /// lets none through, and wins. At 80% acceptance (threshold 3) neither lets any through: the higher AUROC wins.
    func testFewerPassingBeatsHigherAUROC() throws {
        let inScores = (1...10).map(Double.init)
        let comparison = ProxyComparison(kind: "details", inScores: [.knn: inScores, .mahalanobis: inScores],
                                         outScores: [.knn: [1.5, 1.5, 1.5, 1.5, 1.5],
                                                     .mahalanobis: [-5, -4, -3, -2, 2.5]])
        let strict = try Calibration.chooseDefault(comparisons: [comparison], acceptFraction: 0.9)
        XCTAssertEqual(strict.table[.knn]?.passing, 0)
        XCTAssertEqual(try XCTUnwrap(strict.table[.knn]?.auroc), 45.0 / 50, accuracy: 1e-12)
        XCTAssertEqual(strict.table[.mahalanobis]?.passing, 0.2)
        XCTAssertEqual(try XCTUnwrap(strict.table[.mahalanobis]?.auroc), 48.0 / 50, accuracy: 1e-12)
        XCTAssertEqual(strict.score, .knn)
        XCTAssertEqual(strict.ranked.map(\.score), [.knn, .mahalanobis])
        let loose = try Calibration.chooseDefault(comparisons: [comparison], acceptFraction: 0.8)
        XCTAssertEqual(loose.table[.mahalanobis]?.passing, 0)
        XCTAssertEqual(loose.score, .mahalanobis)
    }

    /// Three classes of features around different directions. Leaving a class out must score that class's
    /// held-out rows against the other classes' reference only: kNN values equal a brute-force cosine search over
    /// those reference rows, and the class itself is the outlier.
    func testClassHeldOutComparisonsRefitTheReferenceWithoutTheClass() throws {
        var rng = SplitMix64(state: 11)
        func noise() -> Double { Double(rng.next() % 1000) / 1000 - 0.5 }
        func sample(_ c: Int) -> [Double] { (0..<6).map { $0 == c || $0 == c + 3 ? 4 + noise() : noise() } }
        let referenceLabels = (0..<60).map { $0 % 3 }
        let reference = try Matrix(referenceLabels.map(sample))
        let heldOutLabels = (0..<24).map { $0 % 3 }
        let heldOut = try Matrix(heldOutLabels.map(sample))
        let logits = try Matrix(rows: 24, cols: 3, values: (0..<72).map { _ in noise() })
        let trainLogits = try Matrix(rows: 60, cols: 3, values: (0..<180).map { _ in noise() })
        let detector = try OODDetector.fit(trainLogits: trainLogits, trainLabels: referenceLabels,
                                           trainFeatures: reference, configuration: .init(knnK: 3))
        let comparisons = try ClassHeldOutProxy.comparisons(
            detector: detector, reference: (reference, referenceLabels), logits: logits, features: heldOut,
            labels: heldOutLabels, scores: [.knn, .mahalanobis], maxClasses: 2)
        XCTAssertEqual(comparisons.count, 2)                                   // classes 0 and 1 of 0, 1, 2
        func unit(_ v: [Double]) -> [Double] {
            let n = sqrt(v.reduce(0) { $0 + $1 * $1 })
            return v.map { $0 / n }
        }
        for (comparison, left) in zip(comparisons, [0, 1]) {
            let bank = referenceLabels.indices.filter { referenceLabels[$0] != left }.map { unit(reference.row($0)) }
            func bruteForce(_ rows: [Int]) -> [Double] {
                rows.map { r in
                    let q = unit(heldOut.row(r))
                    let similarities = bank.map { b in zip(q, b).reduce(0) { $0 + $1.0 * $1.1 } }
                    return similarities.sorted(by: >)[2]                        // the 3rd nearest
                }
            }
            let outRows = heldOutLabels.indices.filter { heldOutLabels[$0] == left }
            let inRows = heldOutLabels.indices.filter { heldOutLabels[$0] != left }
            let knnOut = try XCTUnwrap(comparison.outScores[.knn])
            let knnIn = try XCTUnwrap(comparison.inScores[.knn])
            for (value, expected) in zip(knnOut + knnIn, bruteForce(outRows) + bruteForce(inRows)) {
                XCTAssertEqual(value, expected, accuracy: 1e-5)
            }
            XCTAssertEqual(knnOut.count, 8)
            XCTAssertLessThan(knnOut.max()!, knnIn.min()!)                      // the left-out class is the outlier
            let mahalanobisOut = try XCTUnwrap(comparison.outScores[.mahalanobis])
            let mahalanobisIn = try XCTUnwrap(comparison.inScores[.mahalanobis])
            XCTAssertLessThan(mahalanobisOut.max()!, mahalanobisIn.min()!)
        }
        // The full detector is untouched: it still knows every class.
        XCTAssertEqual(detector.mahalanobis?.means.rows, 3)
    }
}
