import Foundation
import XCTest

/// Reads the float64 (and int) arrays of a fixture safetensors file as Double, independently of
/// DiscernWeights (whose reader converts to Float).
struct Fixture {
    let arrays: [String: [Double]]
    let shapes: [String: [Int]]

    init(_ name: String) throws {
        try self.init(absolute: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/robustness/\(name)").standardized.path)
    }

    init(absolute path: String) throws {
        let url = URL(fileURLWithPath: path)
        let data = try Data(contentsOf: url)
        let n = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + n)) as! [String: Any]
        var arrays: [String: [Double]] = [:], shapes: [String: [Int]] = [:]
        for (key, value) in header where key != "__metadata__" {
            let info = value as! [String: Any]
            let offs = (info["data_offsets"] as! [NSNumber]).map(\.intValue)
            let bytes = data.subdata(in: 8 + n + offs[0] ..< 8 + n + offs[1])
            let dtype = info["dtype"] as! String
            let vals: [Double] = bytes.withUnsafeBytes { raw in
                switch dtype {
                case "F64":
                    return (0..<bytes.count / 8).map {
                        Double(
                            bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))
                        )
                    }
                case "I64":
                    return (0..<bytes.count / 8).map {
                        Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)))
                    }
                case "F32":
                    return (0..<bytes.count / 4).map {
                        Double(
                            Float(
                                bitPattern: UInt32(
                                    littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))))
                    }
                default: return []
                }
            }
            let k = key.hasSuffix(".f64") ? String(key.dropLast(4)) : key
            arrays[k] = vals
            shapes[k] = (info["shape"] as! [NSNumber]).map(\.intValue)
        }
        self.arrays = arrays
        self.shapes = shapes
    }

    func get(_ key: String, file: StaticString = #filePath, line: UInt = #line) -> [Double] {
        guard let v = arrays[key] else {
            XCTFail("fixture key \(key) missing", file: file, line: line)
            return []
        }
        return v
    }
    func scalar(_ key: String) -> Double { get(key).first ?? .nan }
}

func assertClose(_ a: [Double], _ b: [Double], rel: Double, abs: Double = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    guard a.count == b.count else { return }
    var worst = 0.0, at = -1
    for i in a.indices {
        let err = Swift.abs(a[i] - b[i]) / Swift.max(Swift.abs(b[i]) * rel + abs, .leastNormalMagnitude)
        if !(err <= worst) || a[i].isNaN != b[i].isNaN {
            worst = err.isNaN ? .infinity : err
            at = i
        }
    }
    XCTAssertLessThanOrEqual(
        worst, 1, "\(what): index \(at): got \(at >= 0 ? a[at] : 0), want \(at >= 0 ? b[at] : 0)", file: file,
        line: line)
}
