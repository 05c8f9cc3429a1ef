import Foundation
import DiscernEngine

/// NumPy .npy v1.0 files (little-endian float32, C order), written without numpy.
public enum NPY {
    public static func encode(_ tensor: Tensor) -> Data {
        let dims = tensor.shape.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // magic(6) + version(2) + length(2) + header + '\n' must be a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var file = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let headerLength = UInt16(header.utf8.count)
        file.append(contentsOf: [UInt8(headerLength & 0xff), UInt8(headerLength >> 8)])
        file.append(Data(header.utf8))
        file.reserveCapacity(file.count + 4 * tensor.count)
        tensor.data.withUnsafeBufferPointer { values in
            for value in values {
                let bits = value.bitPattern.littleEndian
                withUnsafeBytes(of: bits) { file.append(contentsOf: $0) }
            }
        }
        return file
    }

    /// Reads back what `encode` writes (little-endian float32, C order); used by tests and tools.
    public static func decode(_ file: Data, name: String) throws -> Tensor {
        let bytes = [UInt8](file)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8), bytes[6] == 1 else {
            throw ExplainError.invalid("\(name): not an .npy v1 file")
        }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + headerLength,
              let header = String(bytes: bytes[10..<(10 + headerLength)], encoding: .ascii),
              header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let shapeStart = header.range(of: "'shape': ("),
              let shapeEnd = header[shapeStart.upperBound...].firstIndex(of: ")") else {
            throw ExplainError.invalid("\(name): unsupported .npy header (need little-endian float32, C order)")
        }
        let shape = header[shapeStart.upperBound..<shapeEnd].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let start = 10 + headerLength
        guard bytes.count == start + 4 * count else {
            throw ExplainError.invalid("\(name): data size does not match shape \(shape)")
        }
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let k = start + 4 * i
            data[i] = Float(bitPattern: UInt32(bytes[k]) | UInt32(bytes[k + 1]) << 8 | UInt32(bytes[k + 2]) << 16
                                        | UInt32(bytes[k + 3]) << 24)
        }
        return Tensor(shape: shape, data: data)
    }

    public static func write(_ tensor: Tensor, to url: URL) throws {
        do {
            try encode(tensor).write(to: url, options: .atomic)
        } catch {
            throw ExplainError.write(path: url.path, reason: error.localizedDescription)
        }
    }
}
