import DiscernKit
import Foundation

/// The Open Inference Protocol (KServe v2, Triton) REST messages the `/v2` routes speak, with the binary tensor
/// data extension that `tritonclient` uses by default: the body is the JSON header (its length in the
/// `Inference-Header-Content-Length` header) followed by the raw tensors; a BYTES tensor is each element as a
/// 4-byte little-endian length and its bytes. In plain JSON a BYTES element carrying an image is base64 text.
enum InferenceProtocol {
    static let headerLength = "Inference-Header-Content-Length"
    static let inputName = "image"

    /// The outputs of every infer answer, in this order.
    enum OutputName: String, CaseIterable {
        case label, probabilities, verdict, reason, scores
    }
}

/// Any JSON value: request parameters and tensor data are free-form.
enum JSONValue: Codable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    var bool: Bool? { if case let .bool(value) = self { return value } else { return nil } }
    var int: Int? {
        if case let .number(value) = self, value == value.rounded() { return Int(value) }
        return nil
    }

    /// The leaves of a (possibly nested) array in row-major order.
    var flattened: [JSONValue] {
        if case let .array(items) = self { return items.flatMap(\.flattened) }
        return [self]
    }
}

struct InferRequest: Decodable {
    struct Input: Decodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: JSONValue]?
        var data: JSONValue?
    }

    struct Output: Decodable {
        var name: String
        var parameters: [String: JSONValue]?
    }

    var id: String?
    var parameters: [String: JSONValue]?
    var inputs: [Input]
    var outputs: [Output]?
}

struct TensorMetadata: Encodable {
    var name: String
    var datatype: String
    var shape: [Int]
}

struct ModelMetadata: Encodable {
    var name: String
    var versions: [String]
    var platform: String
    var inputs: [TensorMetadata]
    var outputs: [TensorMetadata]
}

struct ServerMetadata: Encodable {
    var name: String
    var version: String
    var extensions: [String]
}

/// One output tensor of an answer: JSON `data`, or raw bytes after the JSON header.
struct OutputTensor {
    enum Values {
        case bytes([[UInt8]])
        case float32([Float])
    }

    var name: String
    var shape: [Int]
    var values: Values
    var binary: Bool

    var datatype: String {
        switch values {
        case .bytes: return "BYTES"
        case .float32: return "FP32"
        }
    }

    var rawData: [UInt8] {
        var out: [UInt8] = []
        switch values {
        case let .bytes(elements):
            for element in elements {
                withUnsafeBytes(of: UInt32(element.count).littleEndian) { out.append(contentsOf: $0) }
                out.append(contentsOf: element)
            }
        case let .float32(numbers):
            out.reserveCapacity(numbers.count * 4)
            for number in numbers { withUnsafeBytes(of: number.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// The tensor's JSON object; with binary data, `parameters.binary_data_size` says how many raw bytes are its.
    func json(binarySize: Int?) -> [String: JSONValue] {
        var object: [String: JSONValue] = [
            "name": .string(name), "datatype": .string(datatype), "shape": .array(shape.map { .number(Double($0)) }),
        ]
        if let binarySize {
            object["parameters"] = .object(["binary_data_size": .number(Double(binarySize))])
            return object
        }
        switch values {
        case let .bytes(elements):
            object["data"] = .array(elements.map { .string(String(decoding: $0, as: UTF8.self)) })
        case let .float32(numbers): object["data"] = .array(numbers.map { .number(Double($0)) })
        }
        return object
    }
}
