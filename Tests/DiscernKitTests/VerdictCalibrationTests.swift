import Foundation
import XCTest
@testable import DiscernKit
import DiscernRobustness

/// `--unknown` and `--shifted` folders are for evaluation only: a run with them writes the same model (rule,
/// thresholds, detector statistics) as a run without them, and reports what the verdict did on them.
final class VerdictCalibrationTests: XCTestCase {
    func testEvaluationFoldersNeverInfluenceTheModel() throws {
        let weights = try TestPaths.liteWeights
        let (data, unknown) = try TestPaths.subset(perClass: 30, testPerClass: 8, unknown: 12)
        func run(_ name: String, _ extra: (inout StudyOptions) -> Void) throws -> (StudyOutcome, ModelFile) {
            var o = StudyOptions(data: data.path)
            o.epochs = 1; o.augmentViews = 1; o.shiftCopies = 1; o.explain = false; o.force = true
            o.weights = weights.path
            o.out = try TestPaths.temporaryDirectory(name).path
            extra(&o)
            let outcome = try Study(options: o).run()
            return (outcome, try ModelFile.load(URL(fileURLWithPath: outcome.modelPath)))
        }
        let (_, plain) = try run("plain") { _ in }
        let (outcome, evaluated) = try run("evaluated") {
            $0.unknown = [unknown.path]
            $0.shifted = [data.appendingPathComponent("test_set").path]
        }
        guard case let .twoQuestions(u, s)? = plain.metadata.rule else { return XCTFail("default run must ask two questions") }
        guard case let .twoQuestions(u2, s2)? = evaluated.metadata.rule else { return XCTFail("default run must ask two questions") }
        XCTAssertEqual([u.score, s.score], [u2.score, s2.score])
        XCTAssertEqual(u.value, u2.value, accuracy: 1e-6 * abs(u.value))
        XCTAssertEqual(s.value, s2.value, accuracy: 1e-6 * abs(s.value))
        // The low-resolution threshold (whether this small subset's thumbnails give one or not) is the same too.
        XCTAssertEqual(s.lowResolutionBelow, s2.lowResolutionBelow)
        XCTAssertEqual(s.lowResolutionValue == nil, s2.lowResolutionValue == nil)
        if let low = s.lowResolutionValue, let low2 = s2.lowResolutionValue {
            XCTAssertEqual(low, low2, accuracy: 1e-6 * abs(low))
        }
        XCTAssertEqual(plain.metadata.thresholds.keys.map(\.rawValue).sorted(),
                       evaluated.metadata.thresholds.keys.map(\.rawValue).sorted())
        for (k, v) in plain.metadata.thresholds {
            XCTAssertEqual(evaluated.metadata.thresholds[k]!, v, accuracy: 1e-6 * abs(v) + 1e-12, k.rawValue)
        }
        let (a, _) = try plain.detector!.exportArrays(), (b, _) = try evaluated.detector!.exportArrays()
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (k, m) in a { XCTAssertEqual(m.values.count, b[k]!.values.count, k) }
        // The evaluation folders were scored and reported.
        let rob = outcome.robustness
        XCTAssertEqual(rob.unknown.map(\.count), [12])
        XCTAssertEqual(rob.shifted.map(\.count), [16])
        XCTAssertEqual(rob.shifted[0].accuracy, outcome.test.table.accuracy, accuracy: 1e-12, "the same images as the test set")
    }

    func testRuleAsksUnknownFirstThenUnsure() {
        let rule = VerdictRule.twoQuestions(unknown: OODThreshold(score: .knn, value: 0.5),
                                            unsure: OODThreshold(score: .msp, value: 0.9, targetRisk: 0.01))
        XCTAssertEqual(rule.verdict([.knn: 0.7, .msp: 0.95]), .accept)
        XCTAssertEqual(rule.verdict([.knn: 0.2, .msp: 0.99]), .unknown(Evidence(score: .knn, value: 0.2, threshold: 0.5)))
        XCTAssertEqual(rule.verdict([.knn: 0.6, .msp: 0.6]), .unsure(Evidence(score: .msp, value: 0.6, threshold: 0.9)))
        XCTAssertEqual(rule.verdict([.msp: 0.99]).kind, .unknown, "a missing score fails its question")
        XCTAssertEqual(rule.verdict([.knn: 0.6, .msp: 0.6]).reason,
                       "a trained class, but the answer is likely wrong (msp 0.6 < 0.9)")
        // The study's single score: a rejection is filed under the question the score answers.
        XCTAssertEqual(VerdictRule.singleScore(OODThreshold(score: .density, value: 0.04)).verdict([.density: 0.01]).kind, .unsure)
        XCTAssertEqual(VerdictRule.singleScore(OODThreshold(score: .vim, value: 1)).verdict([.vim: 0]).kind, .unknown)
        XCTAssertEqual(VerdictRule.singleScore(OODThreshold(score: .density, value: 0.04)).verdict([.density: 0.04]), .accept)
    }
}
