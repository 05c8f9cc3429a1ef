import XCTest
@testable import DiscernRobustness

final class MannWhitneyTests: XCTestCase {
    func testMatchesScipy() throws {
        let fx = try Fixture("mannwhitney.safetensors")
        let expected: [String: MannWhitney.Method] = [
            "large": .asymptotic, "ties": .asymptotic, "exact_5_7": .exact, "exact_3_12": .exact,
            "exact_8_40": .exact, "small_ties": .asymptotic, "forced_asym": .asymptotic, "identical": .asymptotic,
        ]
        for (name, method) in expected {
            let r = try MannWhitney.test(
                fx.get("\(name).x"), fx.get("\(name).y"), method: name == "forced_asym" ? .asymptotic : .auto)
            XCTAssertEqual(r.method, method, name)
            XCTAssertEqual(r.u1, fx.scalar("\(name).u1"), accuracy: 1e-9, name)
            let p = fx.scalar("\(name).p")
            XCTAssertEqual(r.pValue, p, accuracy: 1e-6 * Swift.max(p, 1e-3), name)
            XCTAssertEqual(r.medianX, fx.scalar("\(name).median_x"), name)
            XCTAssertEqual(r.medianY, fx.scalar("\(name).median_y"), name)
        }
    }

    func testExactDistributionSumsToOne() {
        // P(U ≥ 0) = 1, and P(U ≥ mn) = 1/C(m+n, m).
        XCTAssertEqual(MannWhitney.exactSF(0, 4, 6), 1, accuracy: 1e-12)
        XCTAssertEqual(MannWhitney.exactSF(24, 4, 6), 1.0 / 210, accuracy: 1e-12)
        XCTAssertEqual(MannWhitney.exactSF(21, 3, 7), 1.0 / 120, accuracy: 1e-12)
    }

    func testEmptyOrNonFiniteInputThrows() {
        XCTAssertThrowsError(try MannWhitney.test([], [1, 2]))
        XCTAssertThrowsError(try MannWhitney.test([1, .infinity], [1, 2]))
    }
}
