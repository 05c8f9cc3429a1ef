/// Op-level forward/backward functions on plain NCHW tensors: the reference and autograd path
/// (the `AutogradExecutor` builds on them). Shapes are checked and bad ones throw `EngineError`.
public enum Ops {}

/// Raw pointer glue for oneDNN/BLAS calls that take `void *` even for inputs.
@inline(__always)
func mutableRaw(_ p: UnsafeBufferPointer<Float>) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(mutating: p.baseAddress!)
}

extension Tensor {
    /// Checks rank 4 and names the operand in the error.
    func expectRank4(_ what: String) throws -> (n: Int, c: Int, h: Int, w: Int) {
        guard rank == 4 else { throw EngineError.invalid("\(what): expected an NCHW (4-D) tensor, got shape \(shape)") }
        return (shape[0], shape[1], shape[2], shape[3])
    }
}

import Foundation

/// Runs `body` over `0..<count` split into contiguous chunks on all cores;
/// small jobs (under `grain` items) stay on the calling thread.
func parallelChunks(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = min(cores * 4, max(1, count / max(grain, 1)))
    if chunks <= 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
        let lo = count * i / chunks, hi = count * (i + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}
