import Foundation
import XCTest
@testable import DiscernKit
import DiscernRobustness
import DiscernWeights

/// Mann–Whitney U and medians against scipy 1.10 / numpy (tools/make_explain_stats_fixture.py).
final class StatsTests: XCTestCase {
    func testMannWhitneyMatchesScipy() throws {
        // The fixture of the explain tests: Tests/Fixtures/explain/mannwhitney.safetensors.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/explain/mannwhitney.safetensors").standardized
        let file = try SafeTensors.read(url)
        func values(_ key: String) throws -> [Double] {
            try XCTUnwrap(file.tensors[key], "mannwhitney lacks \(key): run tools/make_explain_stats_fixture.py")
                .data.map(Double.init)
        }
        let cases = Int(file.metadata["cases"] ?? "") ?? 0
        XCTAssertGreaterThan(cases, 0)
        for i in 0..<cases {
            let x = try values("\(i).x.f64")
            let y = try values("\(i).y.f64")
            let e = try values("\(i).result.f64")
            let r = try MannWhitney.test(x, y)
            XCTAssertEqual(r.u1, e[0], accuracy: 1e-9, "case \(i) U")
            XCTAssertEqual(r.pValue, e[1], accuracy: 1e-6, "case \(i) p")
            XCTAssertEqual(Stats.median(x)!, e[2], accuracy: 1e-7)
            XCTAssertEqual(Stats.median(y)!, e[3], accuracy: 1e-7)
        }
        XCTAssertThrowsError(try MannWhitney.test([], [1, 2]))
        XCTAssertNil(Stats.median([]))
    }
}

final class AttentionAnalysisTests: XCTestCase {
    func testGroupsAndVerdicts() {
        // 3 correct, 4 errors with scores 0.9, 0.8 (apparent: ≥ median 0.6) and 0.4, 0.2.
        let s: [AttentionAnalysis.Sample] = [
            .init(area: 0.1, score: 0.99, correct: true), .init(area: 0.2, score: 0.9, correct: true),
            .init(area: 0.3, score: 0.7, correct: true),
            .init(area: 0.6, score: 0.9, correct: false), .init(area: 0.5, score: 0.8, correct: false),
            .init(area: 0.25, score: 0.4, correct: false), .init(area: 0.15, score: 0.2, correct: false),
        ]
        let a = AttentionAnalysis(samples: s)
        XCTAssertEqual(a.scoreSplit ?? 0, 0.6, accuracy: 1e-12)
        XCTAssertEqual(a.apparent.areas, [0.6, 0.5])
        XCTAssertEqual(a.understandable.areas, [0.25, 0.15])
        XCTAssertEqual(a.correct.medianArea, 0.2)
        // 2 vs 2: smallest possible two-sided p is 2/6 — the analysis must say it cannot decide.
        XCTAssertEqual(a.apparentVsUnderstandable?.p ?? 0, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertTrue(a.verdict.hasPrefix("Cannot support or refute"), a.verdict)
        let none = AttentionAnalysis(samples: Array(s.prefix(3)))
        XCTAssertNil(none.apparentVsUnderstandable)
        XCTAssertTrue(none.verdict.hasPrefix("Not testable"), none.verdict)
    }
}

