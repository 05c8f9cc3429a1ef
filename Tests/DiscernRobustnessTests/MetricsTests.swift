import XCTest
@testable import DiscernRobustness

final class MetricsTests: XCTestCase {
    let cases = ["gauss", "ties", "coarse", "separable"]

    func testMatchSklearnAndNumpy() throws {
        let fx = try Fixture("metrics.safetensors")
        for c in cases {
            let si = fx.get("\(c).in"), so = fx.get("\(c).out")
            let m = try OODMetrics.evaluate(inScores: si, outScores: so)
            XCTAssertEqual(m.auroc, fx.scalar("\(c).auroc"), accuracy: 1e-9, "\(c) auroc")
            XCTAssertEqual(m.auprIn, fx.scalar("\(c).aupr_in"), accuracy: 1e-9, "\(c) aupr in")
            XCTAssertEqual(m.auprOut, fx.scalar("\(c).aupr_out"), accuracy: 1e-9, "\(c) aupr out")
            XCTAssertEqual(m.fpr95, fx.scalar("\(c).fpr95"), accuracy: 1e-12, "\(c) fpr95")
            XCTAssertEqual(try Calibration.threshold(inDistribution: si), fx.scalar("\(c).thr95"), "\(c) threshold 95")
            XCTAssertEqual(
                try Calibration.threshold(inDistribution: si, acceptFraction: 0.9), fx.scalar("\(c).thr90"),
                "\(c) threshold 90")
            let roc = try OODMetrics.rocCurve(inScores: si, outScores: so)
            XCTAssertEqual(roc.fpr, fx.get("\(c).roc_fpr"), "\(c) roc fpr")
            XCTAssertEqual(roc.tpr, fx.get("\(c).roc_tpr"), "\(c) roc tpr")
            XCTAssertEqual(roc.thresholds, fx.get("\(c).roc_thr"), "\(c) roc thresholds")
        }
    }

    func testCalibratedThresholdAcceptsTheTargetFraction() throws {
        let s = (0..<200).map { Double(($0 * 37) % 200) }      // distinct values 0..199
        let t = try Calibration.calibrate(score: .knn, validationScores: s)
        XCTAssertEqual(t.value, 10)                              // 190 of 200 are ≥ 10
        XCTAssertEqual(OODMetrics.rejectionRate(scores: s, threshold: t.value), 0.05)
        XCTAssertTrue(t.accepts(10))
        XCTAssertFalse(t.accepts(9.999))
        XCTAssertFalse(Calibration.accepts(.nan, threshold: 0))
        XCTAssertThrowsError(try Calibration.threshold(inDistribution: []))
        XCTAssertThrowsError(try Calibration.threshold(inDistribution: [1], acceptFraction: 1.5))
    }

    func testConservativeThresholdMatchesScipyBinomial() throws {
        let cases = try Fixture("metrics.safetensors").get("tolerance.cases")
        for i in stride(from: 0, to: cases.count, by: 4) {
            let n = Int(cases[i]), t = cases[i + 1], conf = cases[i + 2], k = Int(cases[i + 3])
            XCTAssertEqual(
                Calibration.toleranceRank(n: n, acceptFraction: t, confidence: conf), k, "n=\(n) t=\(t) c=\(conf)")
            let scores = (0..<n).map { Double(($0 * 7919) % n) }  // a permutation of 0..<n
            XCTAssertEqual(
                try Calibration.threshold(inDistribution: scores, acceptFraction: t, confidence: conf), Double(n - k))
        }
        let th = try Calibration.calibrate(score: .knn, validationScores: (0..<200).map(Double.init), confidence: 0.9)
        XCTAssertEqual(th.value, 5)                                        // 195 of 200 accepted (vs 190 without)
        XCTAssertThrowsError(try Calibration.threshold(inDistribution: [1, 2], acceptFraction: 0.9, confidence: 1))
    }

    func testSelectiveClassificationAndRiskCoverage() throws {
        let fx = try Fixture("metrics.safetensors")
        let s = fx.get("sel.scores"), correct = fx.get("sel.correct").map { $0 == 1 }
        let r = try Selective.evaluate(correct: correct, scores: s, threshold: fx.scalar("sel.threshold"))
        XCTAssertEqual(Double(r.accepted), fx.scalar("sel.accepted"))
        XCTAssertEqual(r.accuracyOnAccepted, fx.scalar("sel.acc_on_accepted"), accuracy: 1e-12)
        XCTAssertEqual(Double(r.wrong), fx.scalar("sel.wrong"))
        XCTAssertEqual(Double(r.wrongRejected), fx.scalar("sel.wrong_rejected"))
        XCTAssertEqual(Double(r.rightRejected), fx.scalar("sel.right_rejected"))
        XCTAssertEqual(r.coverage, Double(r.accepted) / Double(s.count))
        let rc = try Selective.riskCoverage(correct: correct, scores: s)
        assertClose(rc.coverage, fx.get("sel.rc_coverage"), rel: 1e-12, "coverage")
        assertClose(rc.risk, fx.get("sel.rc_risk"), rel: 1e-12, abs: 1e-15, "risk")
        XCTAssertEqual(rc.aurc, fx.scalar("sel.aurc"), accuracy: 1e-12)
    }

    /// At 95% acceptance of 4 scores the threshold is the smallest in-score: msp lets 0.85 through (0.85 ≥ 0.7),
    /// knn and energy let nothing through and separate perfectly.
    func testDefaultScoreChoiceUsesTheProxyAtTheThreshold() throws {
        let valIn: [OODScoreKind: [Double]] = [.msp: [0.9, 0.8, 0.7, 0.95], .knn: [0.9, 0.8, 0.7, 0.95],
                                               .energy: [1.0, 2, 3, 4]]
        let proxy: [OODScoreKind: [Double]] = [.msp: [0.85, 0.5], .knn: [0.1, 0.2], .energy: [0.0, 0.5]]
        let choice = try Calibration.chooseDefault(validationIn: valIn, proxyOut: proxy)
        XCTAssertEqual(choice.table[.msp], ProxyResult(passing: 0.5, auroc: 0.75))   // 6 of 8 (in, out) pairs ordered
        XCTAssertEqual(choice.table[.knn], ProxyResult(passing: 0, auroc: 1))
        XCTAssertEqual(choice.score, .energy)  // ties with knn at 0 passing and AUROC 1 → earlier in allCases
        XCTAssertThrowsError(try Calibration.chooseDefault(validationIn: valIn, proxyOut: [.vim: [1]]))
    }

    func testInvalidInputsThrow() {
        XCTAssertThrowsError(try OODMetrics.auroc(labels: [true, true], scores: [1, 2]))
        XCTAssertThrowsError(try OODMetrics.auroc(labels: [true, false], scores: [1, .nan]))
        XCTAssertThrowsError(try OODMetrics.averagePrecision(labels: [true], scores: [1, 2]))
        XCTAssertThrowsError(try Selective.riskCoverage(correct: [], scores: []))
    }
}
