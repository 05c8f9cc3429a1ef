/// A dense float32 tensor, row-major; images and activations are NCHW.
/// Value semantics (copy-on-write through the backing array).
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose values `fill` writes, every one of them: the memory is not zeroed first, which for the
    /// large activations and gradients of training would cost a pass over memory (and, for fresh pages, the
    /// kernel's zeroing on top).
    public init(shape: [Int], filling fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = shape.reduce(1, *)
        self.init(shape: shape, data: try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try fill(buffer)
            initialized = count
        })
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Same values, new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Throws a readable error if the shape differs; `what` names the operand.
    public func expectShape(_ expected: [Int], _ what: String) throws {
        guard shape == expected else { throw EngineError.shapeMismatch(what: what, expected: expected, actual: shape) }
    }

    /// Batch item `i` of an N-leading tensor, keeping a leading 1.
    public func item(_ i: Int) -> Tensor {
        precondition(rank >= 1 && i >= 0 && i < shape[0], "Tensor.item: index \(i) out of \(shape)")
        let per = count / Swift.max(shape[0], 1)
        return Tensor(shape: [1] + shape.dropFirst(), data: Array(data[i * per ..< (i + 1) * per]))
    }

    /// Stacks equally-shaped tensors whose first dimension is the batch.
    public static func concatBatch(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatBatch: nothing to stack")
        let tail = Array(parts[0].shape.dropFirst())
        var batch = 0
        var out = [Float]()
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts {
            precondition(Array(part.shape.dropFirst()) == tail, "concatBatch: \(part.shape) vs [_] + \(tail)")
            batch += part.shape[0]
            out.append(contentsOf: part.data)
        }
        return Tensor(shape: [batch] + tail, data: out)
    }
}

public enum EngineError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(what: String, expected: [Int], actual: [Int])
    case dnnl(what: String, status: Int)
    case unknownLayer(String, available: [String])
    case invalid(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(what, expected, actual): return "\(what): expected shape \(expected), got \(actual)"
        case let .dnnl(what, status): return "oneDNN failed in \(what) (status \(status))"
        case let .unknownLayer(name, available):
            let hint = available.prefix(12).joined(separator: ", ")
            return "no layer named '\(name)' (some layers: \(hint)\(available.count > 12 ? ", …" : ""))"
        case let .invalid(message): return message
        }
    }
}
