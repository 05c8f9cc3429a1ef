import DiscernKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An infer request's body → its JSON message and the images of its `image` tensor.
enum InferenceDecoding {
    static func decode(body: [UInt8], headerLength: String?, maxImages: Int) throws -> (InferRequest, [ImageInput]) {
        var jsonEnd = body.count
        if let headerLength {
            guard let length = Int(headerLength), (0...body.count).contains(length) else {
                throw ServerError.badRequest("\(InferenceProtocol.headerLength) \(headerLength) does not fit "
                                             + "a body of \(body.count) bytes")
            }
            jsonEnd = length
        }
        let message: InferRequest
        do {
            message = try JSONDecoder().decode(InferRequest.self, from: Data(body[..<jsonEnd]))
        } catch {
            throw ServerError.badRequest("not an inference request: \(describe(error))")
        }
        guard message.inputs.count == 1, let input = message.inputs.first,
              input.name == InferenceProtocol.inputName else {
            throw ServerError.badRequest("expected one input named \"\(InferenceProtocol.inputName)\", got "
                                         + message.inputs.map { "\"\($0.name)\"" }.joined(separator: ", "))
        }
        guard input.datatype == "BYTES" else {
            throw ServerError.badRequest("input \"image\" must be BYTES (encoded images), not \(input.datatype)")
        }
        let count = input.shape.reduce(1, *)
        guard input.shape.allSatisfy({ $0 >= 0 }), (1...maxImages).contains(count),
              input.shape.count == 1 || input.shape.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw ServerError.badRequest("input \"image\" shape \(input.shape): expected [N] or [N, 1] "
                                         + "with 1 <= N <= \(maxImages)")
        }
        let elements = try elements(of: input, binary: body[jsonEnd...])
        guard elements.count == count else {
            throw ServerError.badRequest("input \"image\" has \(elements.count) elements, its shape says \(count)")
        }
        let prefix = message.id.map { "\($0)/" } ?? ""
        return (message, elements.enumerated().map { ImageInput(name: "\(prefix)image[\($0)]", bytes: $1) })
    }

    /// BYTES elements: length-prefixed raw data (binary extension) or base64 text in JSON `data`.
    private static func elements(of input: InferRequest.Input, binary: ArraySlice<UInt8>) throws -> [[UInt8]] {
        if let size = input.parameters?["binary_data_size"] {
            guard let size = size.int, size == binary.count else {
                throw ServerError.badRequest("binary_data_size \(String(describing: size)) does not match the "
                                             + "\(binary.count) bytes after the JSON header")
            }
            var elements: [[UInt8]] = []
            var at = binary.startIndex
            while at < binary.endIndex {
                guard binary.endIndex - at >= 4 else { throw ServerError.badRequest("truncated BYTES element length") }
                let length = binary[at..<at + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
                at += 4
                guard binary.endIndex - at >= length else {
                    throw ServerError.badRequest("BYTES element \(elements.count) is cut short")
                }
                elements.append(Array(binary[at..<at + length]))
                at += length
            }
            return elements
        }
        guard let data = input.data else { throw ServerError.badRequest("input \"image\" has no data") }
        return try data.flattened.enumerated().map { index, value in
            guard case let .string(text) = value, let bytes = Data(base64Encoded: text) else {
                throw ServerError.badRequest("input \"image\" element \(index) is not base64 text of an image")
            }
            return Array(bytes)
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "missing field \"\(key.stringValue)\""
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "invalid JSON"
        }
    }
}

/// Predictions → output tensors → the answer body (JSON, or JSON header + binary tensors).
enum InferenceEncoding {
    static func tensors(_ predictions: [Prediction], classes: [String]) -> [OutputTensor] {
        let count = predictions.count
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return InferenceProtocol.OutputName.allCases.map { output in
            switch output {
            case .label:
                return OutputTensor(name: output.rawValue, shape: [count],
                                    values: .bytes(predictions.map { Array($0.label.utf8) }), binary: false)
            case .probabilities:
                let values = predictions.flatMap { prediction in classes.map { Float(prediction.scores[$0] ?? 0) } }
                return OutputTensor(name: output.rawValue, shape: [count, classes.count], values: .float32(values),
                                    binary: false)
            case .verdict:
                return OutputTensor(name: output.rawValue, shape: [count],
                                    values: .bytes(predictions.map { Array($0.verdict.rawValue.utf8) }), binary: false)
            case .reason:
                return OutputTensor(name: output.rawValue, shape: [count],
                                    values: .bytes(predictions.map { Array($0.reason.utf8) }), binary: false)
            case .scores:
                let rows = predictions.map { Array((try? encoder.encode($0.ood)) ?? Data("{}".utf8)) }
                return OutputTensor(name: output.rawValue, shape: [count], values: .bytes(rows), binary: false)
            }
        }
    }

    /// The requested outputs (all when none are named), each binary when it or the request asks for it.
    static func response(_ all: [OutputTensor], for message: InferRequest, modelName: String,
                         version: String) throws -> Response {
        let binaryByDefault = message.parameters?["binary_data_output"]?.bool ?? false
        var chosen: [OutputTensor] = []
        if let requested = message.outputs {
            for output in requested {
                guard var tensor = all.first(where: { $0.name == output.name }) else {
                    throw ServerError.badRequest("unknown output \"\(output.name)\"; outputs are "
                                                 + all.map(\.name).joined(separator: ", "))
                }
                tensor.binary = output.parameters?["binary_data"]?.bool ?? binaryByDefault
                chosen.append(tensor)
            }
        } else {
            chosen = all.map { output in
                var tensor = output
                tensor.binary = binaryByDefault
                return tensor
            }
        }
        var binary: [UInt8] = []
        let outputs: [JSONValue] = chosen.map { tensor in
            guard tensor.binary else { return .object(tensor.json(binarySize: nil)) }
            let raw = tensor.rawData
            binary.append(contentsOf: raw)
            return .object(tensor.json(binarySize: raw.count))
        }
        var answer: [String: JSONValue] = [
            "model_name": .string(modelName), "model_version": .string(version), "outputs": .array(outputs),
        ]
        if let id = message.id { answer["id"] = .string(id) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = Array(try encoder.encode(answer))
        guard chosen.contains(where: \.binary) else {
            return JSONBody.bytes(header, contentType: "application/json")
        }
        var response = JSONBody.bytes(header + binary, contentType: "application/octet-stream")
        response.headers[HTTPField.Name(InferenceProtocol.headerLength)!] = String(header.count)
        return response
    }
}
