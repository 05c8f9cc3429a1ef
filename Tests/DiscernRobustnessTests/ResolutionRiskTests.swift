import Foundation
import XCTest
@testable import DiscernRobustness

/// The verdict's "unsure" threshold held apart on low-resolution photos, against numpy
/// (tools/make_strata_fixture.py, strata.safetensors), and how a verdict picks it by an image's size.
final class ResolutionRiskTests: XCTestCase {
    func testResolutionThresholdsMatchNumpy() throws {
        let fx = try Fixture("strata.safetensors")
        let scores = fx.get("confidence"), correct = fx.get("correct_resolution").map { $0 == 1 },
            low = fx.get("low_resolution").map { $0 == 1 }
        for risk in [0.01, 0.05, 0.1] {
            let strata = try Selective.resolutionThresholds(correct: correct, scores: scores, lowResolution: low,
                                                            maxRisk: risk)
            XCTAssertEqual(strata.normal, fx.scalar("resolution.normal.\(risk)"), "full-size \(risk)")
            XCTAssertEqual(strata.lowResolution, fx.scalar("resolution.low.\(risk)"), "low-resolution \(risk)")
            // A dataset of small images: every sample low-resolution, both thresholds the pooled one.
            let all = try Selective.resolutionThresholds(correct: correct, scores: scores,
                                                         lowResolution: low.map { _ in true }, maxRisk: risk)
            XCTAssertEqual(all.normal, fx.scalar("resolution.all.\(risk)"), "all small \(risk)")
            XCTAssertEqual(all.lowResolution, fx.scalar("resolution.all.\(risk)"), "all small \(risk)")
            let none = try Selective.resolutionThresholds(correct: correct, scores: scores,
                                                          lowResolution: low.map { _ in false }, maxRisk: risk)
            XCTAssertNil(none.lowResolution, "no low-resolution sample: no threshold of its own")
        }
        XCTAssertThrowsError(try Selective.resolutionThresholds(correct: [true], scores: [1], lowResolution: [],
                                                                maxRisk: 0.01))
    }

    func testSmallPhotosMeetTheLowResolutionThreshold() {
        let unsure = OODThreshold(score: .msp, value: 0.6, targetRisk: 0.01, lowResolutionBelow: 112,
                                  lowResolutionValue: 0.9)
        let rule = VerdictRule.twoQuestions(unknown: OODThreshold(score: .knn, value: 0.3), unsure: unsure)
        let scores: [OODScoreKind: Double] = [.knn: 0.7, .msp: 0.7]
        XCTAssertEqual(rule.verdict(scores, shortSide: 300), .accept)
        XCTAssertEqual(rule.verdict(scores, shortSide: 112), .accept, "the cut itself is full-size")
        XCTAssertEqual(rule.verdict(scores), .accept, "size not known: the full-size threshold")
        XCTAssertEqual(rule.verdict(scores, shortSide: 30),
                       .unsure(Evidence(score: .msp, value: 0.7, threshold: 0.9, lowResolution: true)))
        XCTAssertTrue(rule.verdict(scores, shortSide: 30).reason.contains("low-resolution"))
        XCTAssertEqual(rule.verdict([.knn: 0.7, .msp: 0.95], shortSide: 30), .accept)
        XCTAssertEqual(rule.verdict([.knn: 0.1, .msp: 0.95], shortSide: 30).kind, .unknown, "unknown is asked first")
        XCTAssertEqual(rule.verdicts([.knn: [0.7, 0.7], .msp: [0.7, 0.7]], count: 2, shortSides: [400, 24])
            .map(\.kind), [.accept, .unsure])
        XCTAssertEqual(VerdictRule.singleScore(OODThreshold(score: .msp, value: 0.6)).verdict([.msp: 0.7],
                                                                                            shortSide: 30),
                       .accept, "the study's single-score rule has no size strata")
    }

    /// Thresholds and evidence written before the low-resolution threshold existed still decode.
    func testOlderJSONDecodes() throws {
        let threshold = try JSONDecoder().decode(
            OODThreshold.self, from: Data(#"{"score":"msp","value":0.5,"targetRisk":0.01}"#.utf8))
        XCTAssertNil(threshold.lowResolutionValue)
        XCTAssertEqual(threshold.value(typicality: nil, shortSide: 10), 0.5)
        let evidence = try JSONDecoder().decode(
            Evidence.self, from: Data(#"{"score":"knn","value":0.2,"threshold":0.5}"#.utf8))
        XCTAssertEqual(evidence, Evidence(score: .knn, value: 0.2, threshold: 0.5))
        let encoded = try JSONEncoder().encode(Evidence(score: .msp, value: 1, threshold: 2, lowResolution: true))
        XCTAssertEqual(try JSONDecoder().decode(Evidence.self, from: encoded).lowResolution, true)
    }
}
