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
