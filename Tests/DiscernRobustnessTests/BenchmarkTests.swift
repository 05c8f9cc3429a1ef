import Foundation
import XCTest
import DiscernRobustness

/// Every OOD score fitted and evaluated on random data, timed (no assertions on time). In the ordinary suite at
/// small sizes, so the path always runs; DISCERN_BENCH=1 uses the real study's sizes (BENCH_N, BENCH_D, BENCH_M
/// override them): DISCERN_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests
final class BenchmarkTests: XCTestCase {
    func testEveryScoreAtBenchmarkSizes() throws {
        let env = ProcessInfo.processInfo.environment
        let full = env["DISCERN_BENCH"] == "1"
        let n = Int(env["BENCH_N"] ?? "") ?? (full ? 8000 : 300)
        let dim = Int(env["BENCH_D"] ?? "") ?? (full ? 1280 : 24)
        let m = Int(env["BENCH_M"] ?? "") ?? (full ? 2500 : 50)
        let c = 2
        var rng = SystemRandomNumberGenerator()
        func mat(_ r: Int, _ k: Int) -> Matrix {
            try! Matrix(rows: r, cols: k, values: (0..<r * k).map { _ in Double.random(in: 0..<1, using: &rng) })
        }
        let trF = mat(n, dim), trL = mat(n, c), qF = mat(m, dim), qL = mat(m, c)
        let labels = (0..<n).map { $0 % c }
        func time(_ what: String, _ body: () throws -> Void) rethrows {
            let t0 = Date()
            try body()
            print(String(format: "bench %-28@ %8.3f s", what as NSString, Date().timeIntervalSince(t0)))
        }
        var det: OODDetector!
        try time("fit n=\(n) D=\(dim)") {
            // The head-based scores (ViM, ReAct, SCALE, ASH) need the linear head; a random one times them as well.
            let head = try LinearMap(weight: mat(c, dim), bias: [Double](repeating: 0, count: c))
            det = try OODDetector.fit(trainLogits: trL, trainLabels: labels, trainFeatures: trF, head: head)
        }
        for k in OODScoreKind.allCases {
            var scores: [Double] = []
            try time("\(k.rawValue) m=\(m)") { scores = try det.scores(k, logits: qL, features: qF) }
            XCTAssertEqual(scores.count, m, "\(k.rawValue): one score per query")
            XCTAssertFalse(scores.contains { $0.isNaN }, "\(k.rawValue) gave NaN")
        }
        let oneLogit = try Matrix(rows: 1, cols: c, values: qL.row(0))
        let oneFeature = try Matrix(rows: 1, cols: dim, values: qF.row(0))
        try time("knn 1 query") {
            XCTAssertEqual(try det.scores(.knn, logits: oneLogit, features: oneFeature).count, 1)
        }
    }
}
