import Foundation

/// Runs `body(range)` over `0..<count` split into contiguous chunks, in parallel when it pays.
/// `minChunk` keeps tiny jobs on one thread (thread hand-off costs more than small loops).
func parallelChunks(_ count: Int, minChunk: Int = 16, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = Swift.max(1, Swift.min(cores * 4, count / Swift.max(minChunk, 1)))
    if chunks == 1 { body(0..<count); return }
    let per = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * per, hi = Swift.min(count, lo + per)
        if lo < hi { body(lo..<hi) }
    }
}
