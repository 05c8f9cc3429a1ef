import DiscernKit
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

final class ExplainRouteTests: XCTestCase {
    struct ExplainResponse: Decodable {
        struct Heatmap: Decodable { var width: Int; var height: Int; var data: [Float] }
        var `class`: String
        var method: String
        var layer: String
        var attention_area: Double
        var heatmap: Heatmap
        var overlay_png_base64: String
    }

    func testPNGByDefault() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/explain?method=gradcam", method: .post, body: buffer("dog"))
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            XCTAssertEqual(r.headers[.contentType], "image/png")
            XCTAssertEqual(Array(r.body.readableBytesView), ServiceTestDouble.overlay)
        }
    }

    func testJSONWhenAcceptedAndParametersPassThrough() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/explain?method=gradcam%2B%2B&layer=layer4.2&class=cat", method: .post,
                                             headers: [.accept: "application/json"], body: buffer("dog"))
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            XCTAssertEqual(r.headers[.contentType], "application/json")
            let e = try decode(ExplainResponse.self, r)
            XCTAssertEqual(e.class, "cat")           // the requested class, not the predicted dog
            XCTAssertEqual(e.method, "gradcam++")
            XCTAssertEqual(e.layer, "layer4.2")
            XCTAssertEqual(e.attention_area, 0.25)
            XCTAssertEqual(e.heatmap.width, 2)
            XCTAssertEqual(e.heatmap.height, 2)
            XCTAssertEqual(e.heatmap.data, [0, 0.25, 0.5, 1])
            XCTAssertEqual(Data(base64Encoded: e.overlay_png_base64).map(Array.init), ServiceTestDouble.overlay)
        }
    }

    func testMultipartSingleImage() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\"q q\"", .accept: "application/json"]
            let ok = try await client.execute(uri: "/v1/explain", method: .post, headers: headers,
                                              body: multipartBody(boundary: "q q", parts: [("image", "x.jpg", "cat")]))
            XCTAssertEqual(try decode(ExplainResponse.self, ok).class, "cat")
            let two = try await client.execute(uri: "/v1/explain", method: .post, headers: headers,
                                               body: multipartBody(boundary: "q q", parts: [("image", "x.jpg", "cat"), ("image", "y.jpg", "dog")]))
            try assertError(two, .badRequest, contains: "more than 1")
        }
    }

    func testErrors() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig { $0.maxBodyBytes = 64 })
        try await app.test(.router) { client in
            func post(_ uri: String, _ word: String) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: [.xFilename: "e.png"], body: buffer(word))
            }
            try assertError(try await post("/v1/explain?class=horse", "cat"), .badRequest, contains: "unknown class horse")
            try assertError(try await post("/v1/explain?method=lime", "cat"), .badRequest, contains: "unknown method lime")
            try assertError(try await post("/v1/explain", "corrupt"), .unprocessableContent, contains: "e.png")
            try assertError(try await post("/v1/explain", "unsupported"), .unsupportedMediaType, contains: "e.png")
            try assertError(try await post("/v1/explain", "bomb"), .contentTooLarge, contains: "pixels")
            try assertError(try await post("/v1/explain", String(repeating: "x", count: 65)), .contentTooLarge, contains: "64 bytes")
            try assertError(try await post("/v1/explain", ""), .badRequest, contains: "empty")
        }
    }

    /// A wrong method is a 400 naming every method, answered before the image is read or the service asked:
    /// the body here would otherwise be an error of its own (the double's 500).
    func testUnknownMethodListsTheMethodsBeforeAnyWork() async throws {
        let service = ServiceTestDouble()
        let app = DiscernServer.makeApplication(service: service, config: testConfig())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/explain?method=lime", method: .post,
                                                    body: buffer("explode"))
            try assertError(response, .badRequest, contains: "unknown method lime")
            let message = try decode(ErrorResponse.self, response).error
            for method in ["gradcam", "gradcam++", "hirescam", "xgradcam", "layercam", "eigencam", "scorecam"] {
                XCTAssertTrue(message.contains(method), "\(message) does not list \(method)")
            }
            XCTAssertFalse(message.contains("\n"), "one line: \(message)")
        }
        XCTAssertEqual(service.explainCalls, 0, "the service never saw the request")
    }

    func testExplanationsRunOneAtATime() async throws {
        let service = ServiceTestDouble()
        let app = DiscernServer.makeApplication(service: service, config: testConfig())
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let r = try await client.execute(uri: "/v1/explain", method: .post, body: buffer(i % 2 == 0 ? "cat" : "dog"))
                        XCTAssertEqual(r.status, .ok)
                    }
                }
                try await group.waitForAll()
            }
        }
        XCTAssertEqual(service.maxConcurrentExplains, 1)
    }
}
