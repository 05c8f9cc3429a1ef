import DiscernEngine

/// Blocked C = A·Bᵀ over row-major operands: every output is a dot product of two contiguous rows,
/// so both the covariance (Xᵀ stored row-wise) and the kNN similarities (queries × training rows) use it.
/// With `upperOnly` (A = B, C symmetric) tiles below the diagonal are skipped; the caller mirrors them.
/// Baseline x86-64 has 16 SSE registers: a 4×2 tile of SIMD4 accumulators keeps the loop in registers.
@_specialize(where T == Double)
@_specialize(where T == Float)
func gemmABt<T: BinaryFloatingPoint & SIMDScalar>(
    _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int,
    m: Int, n: Int, k: Int, _ c: UnsafeMutablePointer<T>, ldc: Int, parallel: Bool = true,
    upperOnly: Bool = false
) {
    let kBlock = 1024, nBlock = 64
    func rows(_ r: Range<Int>) {
        var k0 = 0
        while k0 < k {
            let kc = Swift.min(kBlock, k - k0)
            var j0 = 0
            while j0 < n {
                let nc = Swift.min(nBlock, n - j0)
                var i = r.lowerBound
                while i < r.upperBound {
                    let mi = Swift.min(4, r.upperBound - i)
                    var j = j0
                    if upperOnly { j = Swift.max(j0, i & ~1) }     // tiles wholly below the diagonal are skipped
                    while j < j0 + nc {
                        let nj = Swift.min(2, j0 + nc - j)
                        tile(
                            a + i * lda + k0, lda, b + j * ldb + k0, ldb, mi, nj, kc, c + i * ldc + j, ldc,
                            accumulate: k0 > 0)
                        j += 2
                    }
                    i += 4
                }
                j0 += nc
            }
            k0 += kc
        }
    }
    if parallel && m * n * k > 1 << 20 { parallelChunks(m, grain: 8, rows) } else { rows(0..<m) }
}

@inline(__always)
private func tile<T: BinaryFloatingPoint & SIMDScalar>(
    _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
    _ mi: Int, _ nj: Int, _ k: Int, _ c: UnsafeMutablePointer<T>, _ ldc: Int, accumulate: Bool
) {
    if mi == 4 && nj == 2 {
        var s00 = SIMD4<T>(), s01 = SIMD4<T>(), s10 = SIMD4<T>(), s11 = SIMD4<T>()
        var s20 = SIMD4<T>(), s21 = SIMD4<T>(), s30 = SIMD4<T>(), s31 = SIMD4<T>()
        let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, b0 = b, b1 = b + ldb
        var p = 0
        while p + 4 <= k {
            let x0 = load4(b0 + p), x1 = load4(b1 + p)
            let y0 = load4(a0 + p), y1 = load4(a1 + p), y2 = load4(a2 + p), y3 = load4(a3 + p)
            s00 += y0 * x0
            s01 += y0 * x1
            s10 += y1 * x0
            s11 += y1 * x1
            s20 += y2 * x0
            s21 += y2 * x1
            s30 += y3 * x0
            s31 += y3 * x1
            p += 4
        }
        var r: [T] = [s00.sum(), s01.sum(), s10.sum(), s11.sum(), s20.sum(), s21.sum(), s30.sum(), s31.sum()]
        while p < k {
            for ii in 0..<4 { for jj in 0..<2 { r[ii * 2 + jj] += a[ii * lda + p] * b[jj * ldb + p] } }
            p += 1
        }
        for ii in 0..<4 { for jj in 0..<2 {
            if accumulate { c[ii * ldc + jj] += r[ii * 2 + jj] } else { c[ii * ldc + jj] = r[ii * 2 + jj] }
        } }
        return
    }
    // Edge tiles add in the 4×2 tile's order, so a row's result does not depend on where it falls in A: a query
    // scored alone or among others (one shard of a batch job, or the whole job) gets the same bits.
    for ii in 0..<mi {
        for jj in 0..<nj {
            let d = tileOrderDot(a + ii * lda, b + jj * ldb, k)
            if accumulate { c[ii * ldc + jj] += d } else { c[ii * ldc + jj] = d }
        }
    }
}

/// One element of the 4×2 tile: a SIMD4 accumulator over blocks of 4, its sum, then the tail in order.
@inline(__always)
private func tileOrderDot<T: BinaryFloatingPoint & SIMDScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ k: Int)
    -> T
{
    var s = SIMD4<T>()
    var p = 0
    while p + 4 <= k {
        s += load4(a + p) * load4(b + p)
        p += 4
    }
    var r = s.sum()
    while p < k {
        r += a[p] * b[p]
        p += 1
    }
    return r
}

@inline(__always)
private func load4<T: SIMDScalar>(_ p: UnsafePointer<T>) -> SIMD4<T> {
    SIMD4<T>(p[0], p[1], p[2], p[3])
}

/// Dot product of two contiguous vectors with four independent SIMD accumulators.
@_specialize(where T == Double)
@_specialize(where T == Float)
@inline(__always)
func dot<T: BinaryFloatingPoint & SIMDScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int) -> T {
    var s0 = SIMD4<T>(), s1 = SIMD4<T>()
    var p = 0
    while p + 8 <= n {
        s0 += load4(x + p) * load4(y + p)
        s1 += load4(x + p + 4) * load4(y + p + 4)
        p += 8
    }
    var s = (s0 + s1).sum()
    while p < n {
        s += x[p] * y[p]
        p += 1
    }
    return s
}
