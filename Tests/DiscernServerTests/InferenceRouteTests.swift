import DiscernKit
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest

/// The Open Inference Protocol routes against the test double: readiness while loading, request errors, and the
/// binary tensor extension built by hand from the protocol's description (the real client is in ServeClusterTests).
/// Unchecked Sendable: XCTest runs one test of this case at a time, and its helpers hold no state.
final class InferenceRouteTests: XCTestCase, @unchecked Sendable {
    private let headerLength = HTTPField.Name("Inference-Header-Content-Length")!

    func testLiveBeforeReadyAndModelRoutesWaitForTheModel() async throws {
        let slot = ModelSlot()
        let app = DiscernServer.makeApplication(slot: slot, metrics: ServerMetrics(), config: testConfig())
        try await app.test(.router) { client in
            let live = try await client.execute(uri: "/v2/health/live", method: .get)
            XCTAssertEqual(live.status, .ok)
            let ready = try await client.execute(uri: "/v2/health/ready", method: .get)
            XCTAssertEqual(ready.status, .serviceUnavailable)
            let infer = try await client.execute(uri: "/v2/models/discern/infer", method: .post,
                                                 body: self.jsonInfer(["Y2F0"]))
            try assertError(infer, .serviceUnavailable, contains: "loading")
            let predict = try await client.execute(uri: "/v1/predict", method: .post, body: buffer("cat"))
            try assertError(predict, .serviceUnavailable, contains: "loading")

            slot.set(.ready(ServiceTestDouble()))
            let nowReady = try await client.execute(uri: "/v2/health/ready", method: .get)
            XCTAssertEqual(nowReady.status, .ok)
            let modelReady = try await client.execute(uri: "/v2/models/discern/ready", method: .get)
            XCTAssertEqual(modelReady.status, .ok)
            let other = try await client.execute(uri: "/v2/models/other", method: .get)
            try assertError(other, .notFound, contains: "other")
        }
    }

    func testBinaryTensorsBothWays() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let header = #"{"inputs":[{"name":"image","shape":[2],"datatype":"BYTES","#
                + #""parameters":{"binary_data_size":17}}],"#
                + #""outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"probabilities"}]}"#
            var body = Array(header.utf8)
            for word in ["cat", "flower"] { body += self.littleEndian(UInt32(word.utf8.count)) + Array(word.utf8) }
            let r = try await client.execute(uri: "/v2/models/discern/infer", method: .post,
                                             headers: [self.headerLength: String(header.utf8.count)],
                                             body: ByteBuffer(bytes: body))
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            let bytes = Array(r.body.readableBytesView)
            let jsonLength = try XCTUnwrap(r.headers[self.headerLength].flatMap(Int.init))
            let json = try JSONSerialization.jsonObject(with: Data(bytes[..<jsonLength]))
            let answer = try XCTUnwrap(json as? [String: Any])
            let outputs = try XCTUnwrap(answer["outputs"] as? [[String: Any]])
            XCTAssertEqual(outputs.map { $0["name"] as? String }, ["label", "probabilities"])
            let labels = Array(bytes[jsonLength...])
            XCTAssertEqual(labels, self.littleEndian(3) + Array("cat".utf8) + self.littleEndian(3) + Array("cat".utf8))
            XCTAssertEqual((outputs[0]["parameters"] as? [String: Int])?["binary_data_size"], labels.count)
            XCTAssertEqual(outputs[1]["shape"] as? [Int], [2, 2])
            let probabilities = try XCTUnwrap(outputs[1]["data"] as? [Double])
            for (got, want) in zip(probabilities, [0.9, 0.1, 0.6, 0.4]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        }
    }

    func testBadRequestsSayWhatIsWrong() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            func infer(_ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
                try await client.execute(uri: "/v2/models/discern/infer", method: .post, headers: headers,
                                         body: buffer(body))
            }
            try assertError(try await infer("{"), .badRequest, contains: "not an inference request")
            try assertError(try await infer(self.request(name: "img")), .badRequest, contains: "\"image\"")
            try assertError(try await infer(self.request(datatype: "FP32", data: "[1]")), .badRequest, contains: "FP32")
            try assertError(try await infer(self.request(shape: [2])), .badRequest, contains: "1 elements")
            try assertError(try await infer(self.request(data: #"["%%"]"#)), .badRequest, contains: "base64")
            let header = #"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","#
                + #""parameters":{"binary_data_size":9}}]}"#
            try assertError(try await infer(header + "\u{3}\0\0\0cat",
                                            headers: [self.headerLength: "\(header.utf8.count)"]),
                            .badRequest, contains: "binary_data_size")
            let unknownOutput = try await infer(self.request(outputs: #"[{"name":"logits"}]"#))
            try assertError(unknownOutput, .badRequest, contains: "logits")
            let corrupt = try await client.execute(uri: "/v2/models/discern/infer", method: .post,
                                                   body: self.jsonInfer([Data("corrupt".utf8).base64EncodedString()]))
            try assertError(corrupt, .unprocessableContent, contains: "image[0]")
            let ok = try await client.execute(uri: "/v2/models/discern/infer", method: .post,
                                              body: self.jsonInfer(["ZG9n"]))
            XCTAssertEqual(ok.status, .ok, String(buffer: ok.body))
            XCTAssertEqual(ok.headers[.contentType], "application/json")
            let label = #"{"data":["dog"],"datatype":"BYTES","name":"label","shape":[1]}"#
            XCTAssertTrue(String(buffer: ok.body).contains(label), String(buffer: ok.body))
        }
    }

    /// A plain-JSON infer request with one input (a cat, base64) and the given deviations.
    private func request(name: String = "image", shape: [Int] = [1], datatype: String = "BYTES",
                         data: String = #"["Y2F0"]"#, outputs: String? = nil) -> String {
        let input = #"{"name":"\#(name)","shape":\#(shape),"datatype":"\#(datatype)","data":\#(data)}"#
        return #"{"inputs":[\#(input)]"# + (outputs.map { #","outputs":\#($0)"# } ?? "") + "}"
    }

    private func jsonInfer(_ base64: [String]) -> ByteBuffer {
        let data = base64.map { "\"\($0)\"" }.joined(separator: ",")
        return buffer(#"{"inputs":[{"name":"image","shape":[\#(base64.count)],"datatype":"BYTES","data":[\#(data)]}]}"#)
    }

    private func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
}
