import XCTest
import DiscernEngine
@testable import DiscernRobustness

final class DetectorEdgeTests: XCTestCase {
    /// ReLU features often have dead channels (always 0): the ridge keeps the shared covariance invertible.
    func testMahalanobisWithDeadChannelsStaysFinite() throws {
        var rng = SplitMix64(state: 7)
        func u() -> Double { Double(rng.next() % 10_000) / 10_000 }
        let rows = (0..<40).map { i in (0..<12).map { c in c < 3 ? 0 : u() + Double(i % 2) } }
        let f = try Matrix(rows), labels = (0..<40).map { $0 % 2 }
        XCTAssertNil(choleskyLower(sampleCovariance(f)))                 // singular without the ridge
        let m = try MahalanobisScore.fit(features: f, labels: labels, classes: 2)
        let s = try m.score(logits: Matrix(zeros: 40, 2), features: f)
        XCTAssertTrue(s.allSatisfy { $0.isFinite && $0 <= 0 })
        // A point that lights up a dead channel is far more unusual than any training point.
        var odd = f.row(0)
        odd[0] = 0.5
        let so = try m.score(logits: Matrix(zeros: 1, 2), features: Matrix([odd]))[0]
        XCTAssertLessThan(so, s.min()! * 100)
    }

    func testCholeskyAndSolveReproduceTheMatrix() throws {
        // A = B·Bᵀ + I for a fixed B, large enough to use the blocked and parallel paths.
        let n = 70
        var rng = SplitMix64(state: 3)
        let b = try Matrix(rows: n, cols: n, values: (0..<n * n).map { _ in Double(rng.next() % 1000) / 500 - 1 })
        var a = Matrix(zeros: n, n)
        for i in 0..<n { for j in 0..<n {
            var s = i == j ? 1.0 : 0.0
            for k in 0..<n { s += b[i, k] * b[j, k] }
            a[i, j] = s
        } }
        let l = try XCTUnwrap(choleskyLower(a, parallelMinWork: 0))   // force the parallel column updates
        var worst = 0.0
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for k in 0..<n { s += l[i, k] * l[j, k] }
            worst = max(worst, abs(s - a[i, j]))
            if j > i { XCTAssertEqual(l[i, j], 0) }
        } }
        XCTAssertLessThan(worst, 1e-9)
        let z = forwardSubstituteRows(l, b)                               // rows of B solved: L zᵢ = bᵢ
        for r in [0, 33, 69] { for i in 0..<n {
            var s = 0.0
            for k in 0...i { s += l[i, k] * z[r, k] }
            XCTAssertEqual(s, b[r, i], accuracy: 1e-9)
        } }
    }

    func testProxyOutliersKeepEachColumnsValues() throws {
        let x = try Matrix((0..<30).map { i in [Double(i), Double(i * i), -Double(i)] })
        let p = ProxyOutliers.permutedColumns(x, seed: 1)
        for c in 0..<3 { XCTAssertEqual(p.column(c).sorted(), x.column(c).sorted()) }
        XCTAssertNotEqual(p, x)
        XCTAssertEqual(ProxyOutliers.permutedColumns(x, seed: 1), p)   // seeded
    }

    func testMatrixFromTensorAndBadShapes() throws {
        let m = try Matrix(Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(m.row(1), [4, 5, 6])
        XCTAssertThrowsError(try Matrix(Tensor(shape: [6], data: [1, 2, 3, 4, 5, 6])))
        XCTAssertThrowsError(try Matrix([[1.0, 2], [3]])) {
            XCTAssertEqual("\($0)", "row 1: expected 2 columns, got 1")
        }
        XCTAssertThrowsError(try Matrix(rows: 2, cols: 2, values: [1]))
    }

    /// The dot-product kernels, baseline and AVX2: a plain product, the symmetric use through `scatter`, and a
    /// row's result alone equal to the same row's anywhere in a larger product (edges, tiles, parallel chunks).
    func testBlockedDotKernelMatchesNaiveProduct() {
        defer { DotKernels.limit(to: 1) }
        for level in [0, 1] {
            DotKernels.limit(to: level)
            let kernels = DotKernels.level == 1 ? "AVX2 kernels" : "baseline kernels (level \(level) asked)"
            if level == 0 { XCTAssertEqual(DotKernels.level, 0) }
            let m = 67, n = 61, k = 301                                 // ragged edges, parallel path (m·n·k > 2^20)
            var rng = SplitMix64(state: 11)
            let a = (0..<m * k).map { _ in Double(rng.next() % 2000) / 1000 - 1 }
            let b = (0..<n * k).map { _ in Double(rng.next() % 2000) / 1000 - 1 }
            var c = [Double](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                gemmABt(ap.baseAddress!, lda: k, bp.baseAddress!, ldb: k, m: m, n: n, k: k, cp.baseAddress!, ldc: n)
            } } }
            for i in 0..<m { for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += a[i * k + p] * b[j * k + p] }
                XCTAssertEqual(c[i * n + j], s, accuracy: 1e-10, kernels)
            } }
            for i in [0, 1, 33, 66] {
                var alone = [Double](repeating: 0, count: n)
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in alone.withUnsafeMutableBufferPointer {
                    gemmABt(ap.baseAddress! + i * k, lda: k, bp.baseAddress!, ldb: k, m: 1, n: n, k: k, $0.baseAddress!,
                            ldc: n)
                } } }
                XCTAssertEqual(alone, Array(c[i * n ..< (i + 1) * n]), "row \(i) alone and among others, \(kernels)")
            }
            // Symmetric use (A = B) with the upper triangle only, through `scatter`, vs the plain formula.
            let x = try! Matrix(rows: 1100, cols: 37, values: (0..<1100 * 37).map { _ in Double(rng.next() % 1000) / 100 })
            let cov = sampleCovariance(x), mu = columnMeans(x)
            for (i, j) in [(0, 0), (3, 30), (30, 3), (36, 36), (17, 2)] {
                var s = 0.0
                for r in 0..<1100 { s += (x[r, i] - mu[i]) * (x[r, j] - mu[j]) }
                XCTAssertEqual(cov[i, j], s / 1099, accuracy: 1e-9, kernels)
            }
        }
    }

    /// The kNN's per-row selection: the k-th largest from the heap equals that of a full sort, ties and k = n included.
    func testTopKMatchesSorting() {
        var rng = SplitMix64(state: 5)
        for n in [1, 2, 7, 100, 1000] {
            let v = (0..<n).map { _ in Float(rng.next() % 50) / 7 }          // few distinct values: many ties
            for k in Set([1, 3, 10, n].filter { $0 <= n }) {
                var top = TopK(k)
                let got = v.withUnsafeBufferPointer { top.kthLargest($0.baseAddress!, n) }
                XCTAssertEqual(got, v.sorted(by: >)[k - 1], "n \(n), k \(k)")
            }
        }
    }
}
