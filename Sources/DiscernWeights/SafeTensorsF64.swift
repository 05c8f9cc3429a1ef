import Foundation
import DiscernEngine

/// Float64 arrays in safetensors, kept at full precision (statistics such as KDE samples and
/// Cholesky factors lose too much as F32). `SafeTensors.File.tensors` also lists them as Float.
public struct DoubleArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Double]
    public init(shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "DoubleArray: shape \(shape) vs \(values.count) values")
        self.shape = shape
        self.values = values
    }
}

extension SafeTensors {
    /// The F64 entries of a file already validated by `decode`, as Doubles.
    public static func decodeF64(_ bytes: Data, name: String) throws -> [String: DoubleArray] {
        _ = try decode(bytes, name: name)   // validates offsets, sizes and overlaps
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))
        })
        let headerBytes = bytes.subdata(in: bytes.startIndex + 8..<bytes.startIndex + 8 + headerLength)
        let header = try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] ?? [:]
        let body = bytes.startIndex + 8 + headerLength
        var out: [String: DoubleArray] = [:]
        for (key, value) in header {
            guard let info = value as? [String: Any], info["dtype"] as? String == "F64",
                  let shape = (info["shape"] as? [NSNumber])?.map(\.intValue),
                  let offs = (info["data_offsets"] as? [NSNumber])?.map(\.intValue) else { continue }
            let count = shape.reduce(1, *)
            let values = bytes[body + offs[0]..<body + offs[0] + 8 * count].withUnsafeBytes { raw in
                (0..<count).map {
                    Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))
                }
            }
            out[key] = DoubleArray(shape: shape, values: values)
        }
        return out
    }

    /// Writes F32 tensors and F64 arrays (names must not collide) with metadata, atomically.
    public static func write(_ file: File, doubles: [String: DoubleArray], to url: URL) throws {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        var parts: [(String, Bool)] = file.tensors.keys.map { ($0, false) } + doubles.keys.map { ($0, true) }
        parts.sort { $0.0 < $1.0 }
        for (k, isDouble) in parts {
            let shape = isDouble ? doubles[k]!.shape : file.tensors[k]!.shape
            let bytes = isDouble ? 8 * doubles[k]!.values.count : 4 * file.tensors[k]!.count
            header[k] = ["dtype": isDouble ? "F64" : "F32", "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var headerJSON = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerJSON.count % 8 != 0 { headerJSON.append(0x20) }
        var out = Data(capacity: 8 + headerJSON.count + offset)
        withUnsafeBytes(of: UInt64(headerJSON.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerJSON)
        for (k, isDouble) in parts {
            if isDouble { doubles[k]!.values.withUnsafeBytes { out.append(contentsOf: $0) } }
            else { file.tensors[k]!.data.withUnsafeBytes { out.append(contentsOf: $0) } }
        }
        try AtomicFile.write(out, to: url)
    }
}
