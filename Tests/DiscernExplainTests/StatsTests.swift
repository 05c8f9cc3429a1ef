import XCTest
@testable import DiscernExplain

/// Mann–Whitney U and medians against scipy 1.10 / numpy (tools/make_explain_stats_fixture.py).
final class StatsTests: XCTestCase {
    func testMannWhitneyMatchesScipy() throws {
        let f = try Fixture("mannwhitney")
        let cases = f.meta("cases")
        XCTAssertGreaterThan(cases, 0)
        for i in 0..<cases {
            let x = try f.t("\(i).x.f64").data.map(Double.init), y = try f.t("\(i).y.f64").data.map(Double.init)
            let e = try f.t("\(i).result.f64").data.map(Double.init)
            let r = try XCTUnwrap(MannWhitneyU.test(x, y))
            XCTAssertEqual(r.u, e[0], accuracy: 1e-9, "case \(i) U")
            XCTAssertEqual(r.p, e[1], accuracy: 1e-6, "case \(i) p")
            XCTAssertEqual(Stats.median(x)!, e[2], accuracy: 1e-7)
            XCTAssertEqual(Stats.median(y)!, e[3], accuracy: 1e-7)
        }
        XCTAssertNil(MannWhitneyU.test([], [1, 2]))
        XCTAssertNil(Stats.median([]))
    }
}
