import Foundation
import XCTest
import DiscernRobustness

/// Timing at the sizes of the real study (not a test: skipped unless DISCERN_BENCH=1; no assertions on time).
/// Run: DISCERN_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests
final class BenchmarkTests: XCTestCase {
    func testRealisticSizes() throws {
        guard ProcessInfo.processInfo.environment["DISCERN_BENCH"] == "1" else { throw XCTSkip("set DISCERN_BENCH=1 to time") }
        let env = ProcessInfo.processInfo.environment
        let n = Int(env["BENCH_N"] ?? "") ?? 8000, dim = Int(env["BENCH_D"] ?? "") ?? 1280
        let m = Int(env["BENCH_M"] ?? "") ?? 2500, c = 2
        var rng = SystemRandomNumberGenerator()
        func mat(_ r: Int, _ k: Int) -> Matrix {
            try! Matrix(rows: r, cols: k, values: (0..<r * k).map { _ in Double.random(in: 0..<1, using: &rng) })
        }
        let trF = mat(n, dim), trL = mat(n, c), qF = mat(m, dim), qL = mat(m, c)
        let labels = (0..<n).map { $0 % c }
        func time(_ what: String, _ body: () throws -> Void) rethrows {
            let t0 = Date(); try body()
            print(String(format: "bench %-28@ %8.3f s", what as NSString, Date().timeIntervalSince(t0)))
        }
        var det: OODDetector!
        time("fit n=\(n) D=\(dim)") { det = try! OODDetector.fit(trainLogits: trL, trainLabels: labels, trainFeatures: trF) }
        for k in OODScoreKind.allCases {
            try time("\(k.rawValue) m=\(m)") { _ = try det.scores(k, logits: qL, features: qF) }
        }
        try time("knn 1 query") { _ = try det.scores(.knn, logits: try Matrix(rows: 1, cols: c, values: qL.row(0)), features: try Matrix(rows: 1, cols: dim, values: qF.row(0))) }
    }
}
