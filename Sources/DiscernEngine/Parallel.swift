import Foundation

/// Runs `body` over `0..<count` split into contiguous chunks of equal size (the last one shorter) on
/// all cores; jobs of fewer than two `grain`s stay on the calling thread (handing work to another
/// thread costs more than a small loop).
public func parallelChunks(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = max(1, min(cores * 4, count / max(grain, 1)))
    if chunks == 1 {
        body(0..<count)
        return
    }
    let chunkSize = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let lower = chunk * chunkSize
        let upper = min(count, lower + chunkSize)
        if lower < upper { body(lower..<upper) }
    }
}
