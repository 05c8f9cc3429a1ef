import Foundation
import DiscernEngine

/// safetensors: u64 little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {String: String}}`, then the bytes.
public enum SafeTensors {
    public struct File: Sendable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]
        public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// Header larger than this is refused (the format's own reference reader uses 100 MB).
    static let maxHeader = 100_000_000

    public static func read(_ url: URL) throws -> File {
        let name = url.path
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw WeightsError.malformed(file: name, reason: "cannot read (\((error as NSError).localizedDescription))")
        }
        return try decode(bytes, name: name)
    }

    public static func decode(_ bytes: Data, name: String) throws -> File {
        func bad(_ reason: String) -> WeightsError { .malformed(file: name, reason: reason) }
        guard bytes.count >= 8 else { throw bad("shorter than the 8-byte header length") }
        let length = bytes.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(maxHeader), length <= UInt64(bytes.count - 8) else {
            throw bad("header length \(length) exceeds the file")
        }
        let headerLength = Int(length)
        let headerData = bytes.subdata(in: bytes.startIndex + 8..<bytes.startIndex + 8 + headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let body = bytes.startIndex + 8 + headerLength
        let bodyCount = bytes.count - 8 - headerLength
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(Int, Int, String)] = []
        for (key, value) in json {
            if key == "__metadata__" {
                guard let strings = value as? [String: String] else {
                    throw bad("__metadata__ must map strings to strings")
                }
                metadata = strings
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offAny = info["data_offsets"] as? [Any], offAny.count == 2
            else { throw bad("entry '\(key)' lacks dtype, shape or data_offsets") }
            let shape = try shapeAny.map { item -> Int in
                guard let dimension = (item as? NSNumber)?.intValue, dimension >= 0, dimension < 1 << 31 else {
                    throw bad("'\(key)': bad dimension \(item)")
                }
                return dimension
            }
            let offs = try offAny.map { item -> Int in
                guard let offset = (item as? NSNumber)?.int64Value, offset >= 0, offset <= Int64(bodyCount) else {
                    throw bad("'\(key)': data offset \(item) is past the end of the file")
                }
                return Int(offset)
            }
            guard offs[0] <= offs[1] else { throw bad("'\(key)': data offsets are reversed") }
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= bodyCount else {
                    throw bad("'\(key)': shape \(shape) is larger than the file")
                }
                count = product
            }
            guard let width = dtypeWidth[dtype] else { throw bad("'\(key)': unsupported dtype \(dtype)") }
            guard offs[1] - offs[0] == count * width else {
                throw bad("'\(key)': \(offs[1] - offs[0]) bytes for shape \(shape) of \(dtype)")
            }
            ranges.append((offs[0], offs[1], key))
            let start = body + offs[0]
            let values = bytes[start ..< start + count * width].withUnsafeBytes { raw in
                convert(raw, dtype: dtype, count: count)
            }
            tensors[key] = Tensor(shape: shape, data: values)
        }
        ranges.sort { $0.0 < $1.0 }
        for i in ranges.indices.dropFirst() where ranges[i].0 < ranges[i - 1].1 {
            throw bad("tensors '\(ranges[i - 1].2)' and '\(ranges[i].2)' overlap")
        }
        return File(tensors: tensors, metadata: metadata)
    }

    static let dtypeWidth: [String: Int] = [
        "F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "I8": 1, "BOOL": 1
    ]

    /// One loop per dtype (the switch stays out of the per-element path).
    static func convert(_ raw: UnsafeRawBufferPointer, dtype: String, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { values in
            func fill(_ load: (Int) -> Float) { for i in 0..<count { values[i] = load(i) } }
            switch dtype {
            case "F32":
                fill {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            case "F64":
                fill {
                    Float(
                        Double(
                            bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))
                        ))
                }
            case "F16":
                fill {
                    Float(
                        Float16(
                            bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))
                        ))
                }
            case "BF16":
                fill {
                    Float(
                        bitPattern: UInt32(
                            UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
                }
            case "I64": fill { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            case "I32": fill { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case "I8": fill { Float(raw.load(fromByteOffset: $0, as: Int8.self)) }
            default: fill { Float(raw[$0]) }
            }
        }
        return out
    }

    /// Serialises as F32, names sorted, and writes atomically (temporary file, then rename).
    public static func write(_ file: File, to url: URL) throws {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        let keys = file.tensors.keys.sorted()
        for key in keys {
            let tensor = file.tensors[key]!
            header[key] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]]
            offset += 4 * tensor.count
        }
        var headerJSON = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerJSON.count % 8 != 0 { headerJSON.append(0x20) }  // pad so the data is aligned
        var out = Data(capacity: 8 + headerJSON.count + offset)
        withUnsafeBytes(of: UInt64(headerJSON.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerJSON)
        for key in keys { file.tensors[key]!.data.withUnsafeBytes { out.append(contentsOf: $0) } }
        try AtomicFile.write(out, to: url)
    }
}
