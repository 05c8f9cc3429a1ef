import XCTest
@testable import DiscernRobustness

final class KDETests: XCTestCase {
    func testMatchesScipyGaussianKDE() throws {
        let fx = try Fixture("scores.safetensors")
        let train = try Matrix(rows: 300, cols: 3, values: fx.get("train_logits"))
        let q = fx.get("query_logits"), m = q.count / 3
        let queries = try Matrix(rows: m, cols: 3, values: q)
        let rules: [(String, GaussianKDE.Bandwidth)] = [
            ("scott", .scott), ("silverman", .silverman), ("scalar", .scalar(0.4))
        ]
        for (tag, bw) in rules {
            for k in 0..<3 {
                let kde = try GaussianKDE(train.column(k), bandwidth: bw)
                XCTAssertEqual(kde.factor, fx.scalar("kde1d.\(tag).\(k).factor"), accuracy: 1e-14)
                assertClose(
                    try kde.evaluate(queries.column(k)), fx.get("kde1d.\(tag).\(k)"), rel: 1e-6,
                    "1-D KDE \(tag) class \(k)")
            }
            let kde = try GaussianKDE(dataset: train, bandwidth: bw)
            XCTAssertEqual(kde.factor, fx.scalar("kde3d.\(tag).factor"), accuracy: 1e-14)
            assertClose(try kde.evaluate(queries), fx.get("kde3d.\(tag)"), rel: 1e-6, "3-D KDE \(tag)")
            assertClose(
                try kde.logEvaluate(queries), fx.get("kde3d.\(tag).logpdf"), rel: 1e-9, abs: 1e-9,
                "3-D KDE logpdf \(tag)")
        }
    }

    func testCodableRoundTripKeepsValues() throws {
        let kde = try GaussianKDE([0.1, 0.5, 0.2, 1.4, -0.3, 0.9], bandwidth: .silverman)
        let back = try JSONDecoder().decode(GaussianKDE.self, from: JSONEncoder().encode(kde))
        XCTAssertEqual(back.bandwidth, .silverman)
        XCTAssertEqual(try back.evaluate([0.0, 0.3, 2.0]), try kde.evaluate([0.0, 0.3, 2.0]))
    }

    func testDegenerateDataIsATypedError() {
        XCTAssertThrowsError(try GaussianKDE([1, 1, 1, 1])) {
            XCTAssertEqual($0 as? RobustnessError, .singularCovariance(what: "KDE dataset (4x1)"))
        }
        XCTAssertThrowsError(try GaussianKDE([])) {
            XCTAssertEqual($0 as? RobustnessError, .empty(what: "KDE dataset"))
        }
        XCTAssertThrowsError(try GaussianKDE([1, .nan, 2]))
        let kde = try! GaussianKDE([0.0, 1, 2, 4])
        XCTAssertThrowsError(try kde.evaluate(Matrix(zeros: 2, 2)))
    }

    /// The scalar kernel density integrates to 1 — a check independent of scipy.
    func testOneDimensionalDensityIntegratesToOne() throws {
        let kde = try GaussianKDE([-1.0, 0.2, 0.3, 2.5, 1.1, 0.7], bandwidth: .scott)
        let xs = stride(from: -15.0, through: 18.0, by: 0.01).map { $0 }
        let ys = try kde.evaluate(xs)
        XCTAssertEqual(ys.reduce(0, +) * 0.01, 1, accuracy: 1e-6)
    }
}
