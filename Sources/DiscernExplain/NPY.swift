import Foundation
import DiscernEngine

/// NumPy .npy v1.0 files (little-endian float32, C order), written without numpy.
public enum NPY {
    public static func encode(_ t: Tensor) -> Data {
        let dims = t.shape.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // magic(6) + version(2) + length(2) + header + '\n' must be a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let n = UInt16(header.utf8.count)
        d.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        d.append(Data(header.utf8))
        d.reserveCapacity(d.count + 4 * t.count)
        t.data.withUnsafeBufferPointer { p in
            for v in p { let b = v.bitPattern.littleEndian; withUnsafeBytes(of: b) { d.append(contentsOf: $0) } }
        }
        return d
    }

    /// Reads back what `encode` writes (little-endian float32, C order); used by tests and tools.
    public static func decode(_ d: Data, name: String) throws -> Tensor {
        let b = [UInt8](d)
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8), b[6] == 1 else {
            throw ExplainError.invalid("\(name): not an .npy v1 file")
        }
        let hl = Int(b[8]) | Int(b[9]) << 8
        guard b.count >= 10 + hl, let h = String(bytes: b[10..<(10 + hl)], encoding: .ascii),
              h.contains("'<f4'"), h.contains("'fortran_order': False"),
              let o = h.range(of: "'shape': ("), let c = h[o.upperBound...].firstIndex(of: ")") else {
            throw ExplainError.invalid("\(name): unsupported .npy header (need little-endian float32, C order)")
        }
        let shape = h[o.upperBound..<c].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *), start = 10 + hl
        guard b.count == start + 4 * count else { throw ExplainError.invalid("\(name): data size does not match shape \(shape)") }
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let k = start + 4 * i
            data[i] = Float(bitPattern: UInt32(b[k]) | UInt32(b[k + 1]) << 8 | UInt32(b[k + 2]) << 16 | UInt32(b[k + 3]) << 24)
        }
        return Tensor(shape: shape, data: data)
    }

    public static func write(_ t: Tensor, to url: URL) throws {
        do { try encode(t).write(to: url, options: .atomic) }
        catch { throw ExplainError.write(path: url.path, reason: error.localizedDescription) }
    }
}
