import XCTest
@testable import DiscernRobustness

/// The verdict's "unsure" threshold held in two strata of typicality, against numpy
/// (tools/make_strata_fixture.py, strata.safetensors).
final class StratifiedRiskTests: XCTestCase {
    func testStratifiedThresholdsMatchNumpy() throws {
        let fx = try Fixture("strata.safetensors")
        let typicality = fx.get("typicality"), scores = fx.get("confidence"),
            correct = fx.get("correct").map { $0 == 1 }
        for fraction in [0.9, 0.95] {
            let cut = try Calibration.threshold(inDistribution: Array(typicality.prefix(200)), acceptFraction: fraction)
            XCTAssertEqual(cut, fx.scalar("cut.\(fraction)"), "cut \(fraction)")
            for risk in [0.01, 0.05, 0.1] {
                let t = try Selective.stratifiedThresholds(
                    correct: correct, scores: scores, typicality: typicality, cut: cut,
                    maxRisk: risk)
                XCTAssertEqual(t.typical, fx.scalar("typical.\(fraction).\(risk)"), "typical \(fraction) \(risk)")
                XCTAssertEqual(t.atypical, fx.scalar("atypical.\(fraction).\(risk)"), "atypical \(fraction) \(risk)")
            }
        }
    }

    func testAtypicalImagesMeetTheirOwnThreshold() {
        let unsure = OODThreshold(score: .msp, value: 0.6, targetRisk: 0.01, atypicalBelow: 0.5, atypicalValue: 0.9)
        let rule = VerdictRule.twoQuestions(unknown: OODThreshold(score: .knn, value: 0.3), unsure: unsure)
        XCTAssertEqual(rule.verdict([.knn: 0.7, .msp: 0.7]), .accept, "typical: the looser threshold")
        XCTAssertEqual(
            rule.verdict([.knn: 0.4, .msp: 0.7]), .unsure(Evidence(score: .msp, value: 0.7, threshold: 0.9)))
        XCTAssertEqual(rule.verdict([.knn: 0.4, .msp: 0.95]), .accept)
        XCTAssertEqual(rule.verdict([.knn: 0.2, .msp: 0.95]).kind, .unknown)
        XCTAssertEqual(OODThreshold(score: .msp, value: 0.6).value(typicality: 0), 0.6, "one stratum")
        XCTAssertThrowsError(
            try Selective.stratifiedThresholds(
                correct: [true], scores: [1, 2], typicality: [1, 2], cut: 0,
                maxRisk: 0.01))
    }
}
