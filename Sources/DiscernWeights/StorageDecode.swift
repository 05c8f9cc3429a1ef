import DiscernEngine

/// Turns a storage's raw little-endian bytes and a strided view of them into a dense Float tensor.
enum StorageDecode {
    /// `root` holds the whole storage the view's key names; bounds were checked by the unpickler
    /// (view inside the storage) and by the loader (storage bytes present), re-checked here.
    static func tensor(_ t: TensorRef, root: UnsafeRawBufferPointer) -> Tensor? {
        let base = t.storage.offset + t.offset
        guard (t.storage.offset + t.storage.count) * t.storage.dtype.size <= root.count else { return nil }
        var out = [Float](repeating: 0, count: t.elementCount)
        if t.elementCount > 0 {
            out.withUnsafeMutableBufferPointer { o in
                let p = o.baseAddress!
                switch t.storage.dtype {
                case .float32:
                    gather(p, t, base) {
                        Float(
                            bitPattern: UInt32(
                                littleEndian: root.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                    }
                case .float64:
                    gather(p, t, base) {
                        Float(
                            Double(
                                bitPattern: UInt64(
                                    littleEndian: root.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
                    }
                case .float16:
                    gather(p, t, base) {
                        Float(
                            Float16(
                                bitPattern: UInt16(
                                    littleEndian: root.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))))
                    }
                case .bfloat16:
                    gather(p, t, base) {
                        Float(
                            bitPattern: UInt32(
                                UInt16(littleEndian: root.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16
                        )
                    }
                case .int64:
                    gather(p, t, base) {
                        Float(Int64(littleEndian: root.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)))
                    }
                case .int32:
                    gather(p, t, base) {
                        Float(Int32(littleEndian: root.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)))
                    }
                case .int16:
                    gather(p, t, base) {
                        Float(Int16(littleEndian: root.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)))
                    }
                case .int8: gather(p, t, base) { Float(root.load(fromByteOffset: $0, as: Int8.self)) }
                case .uint8: gather(p, t, base) { Float(root[$0]) }
                case .bool: gather(p, t, base) { root[$0] != 0 ? 1 : 0 }
                }
            }
        }
        return Tensor(shape: t.shape, data: out)
    }

    /// Writes the view's elements in row-major order; `load(i)` reads storage element i.
    @inline(__always)
    static func gather(_ out: UnsafeMutablePointer<Float>, _ t: TensorRef, _ base: Int, _ load: (Int) -> Float) {
        let shape = t.shape, stride = t.stride
        var contiguous = true, expect = 1
        for d in shape.indices.reversed() where shape[d] != 1 {
            if stride[d] != expect {
                contiguous = false
                break
            }
            expect *= shape[d]
        }
        if contiguous {
            for i in 0..<t.elementCount { out[i] = load(base + i) }
            return
        }
        // Odometer over all but the last dimension; the last one is the inner loop.
        let rank = shape.count
        let inner = shape[rank - 1], innerStride = stride[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var at = base, o = 0
        while o < t.elementCount {
            var s = at
            for _ in 0..<inner {
                out[o] = load(s)
                o += 1
                s += innerStride
            }
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                at += stride[d]
                if index[d] < shape[d] { break }
                at -= stride[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
