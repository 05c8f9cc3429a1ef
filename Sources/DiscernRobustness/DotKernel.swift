import CDotKernels
import DiscernEngine

/// C = A·Bᵀ over row-major Double operands: every output is a dot product of two contiguous rows, so both the
/// covariance (Xᵀ stored row-wise) and ViM's projection (queries × principal directions) use it. With
/// `upperOnly` (A = B, C symmetric) tiles below the diagonal are skipped; the caller mirrors them. The loops are
/// C (CDotKernels, with an AVX2 version); each element is summed in `dot`'s order wherever it falls in C, so a
/// row's result does not depend on the other rows of A (one shard of a batch job, or the whole job).
func gemmABt(
    _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
    m: Int, n: Int, k: Int, _ c: UnsafeMutablePointer<Double>, ldc: Int, parallel: Bool = true,
    upperOnly: Bool = false
) {
    guard m > 0, n > 0 else { return }
    nonisolated(unsafe) let a = a, b = b, c = c
    let rows = { (r: Range<Int>) in
        discern_dot_rows(a + r.lowerBound * lda, lda, b, ldb, r.count, n, k, c + r.lowerBound * ldc, ldc,
                         upperOnly ? 1 : 0, r.lowerBound)
    }
    if parallel && m * n * k > 1 << 20 { parallelChunks(m, grain: 8, rows) } else { rows(0..<m) }
}

/// Dot product of two contiguous vectors (CDotKernels).
@inline(__always)
func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
    discern_dot(x, y, n)
}

/// Which version of the dot-product loops runs (CDotKernels): AVX2 with FMA where the CPU has both.
public enum DotKernels {
    /// 0 = baseline x86-64, 1 = AVX2 with FMA.
    public static var level: Int { Int(discern_dot_kernels_level()) }

    /// Keeps every later call at or below `level` (tests check both versions).
    public static func limit(to level: Int) { discern_dot_kernels_limit(Int32(level)) }
}
