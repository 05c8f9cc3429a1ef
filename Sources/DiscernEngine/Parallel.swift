import Foundation

/// Runs `body` over `0..<count` split into contiguous chunks of equal size (the last one shorter) on
/// all cores; jobs of fewer than two `grain`s stay on the calling thread (handing work to another
/// thread costs more than a small loop).
///
/// The chunks run at the same time, so `body` must be safe to call concurrently on disjoint ranges:
/// every caller reads shared inputs and writes only the elements of its own range (through raw
/// buffer pointers, which Swift cannot prove disjoint).
public func parallelChunks(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = max(1, min(cores * 4, count / max(grain, 1)))
    if chunks == 1 {
        body(0..<count)
        return
    }
    let chunkSize = (count + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        let shared = ConcurrentBody(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lower = chunk * chunkSize
            let upper = min(count, lower + chunkSize)
            if lower < upper { shared.body(lower..<upper) }
        }
    }
}

/// Runs `body(index)` for every index in `0..<count`, one task per index spread over all cores (for
/// coarse items such as decoding one image each). The same contract as `parallelChunks`: `body` must be
/// safe to call concurrently for different indices.
public func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
    guard count > 0 else { return }
    withoutActuallyEscaping(body) { body in
        let shared = ConcurrentBody(body)
        DispatchQueue.concurrentPerform(iterations: count) { index in shared.body(index) }
    }
}

/// A loop body handed to the threads of `DispatchQueue.concurrentPerform`, which requires a Sendable
/// closure. Unchecked: `parallelChunks` documents that its body must tolerate concurrent calls on
/// disjoint ranges, and `concurrentPerform` returns only after every call has finished.
struct ConcurrentBody<Argument>: @unchecked Sendable {
    let body: (Argument) -> Void
    init(_ body: @escaping (Argument) -> Void) { self.body = body }
}
