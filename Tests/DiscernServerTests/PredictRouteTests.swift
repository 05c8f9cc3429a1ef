import DiscernKit
import DiscernRobustness
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

final class PredictRouteTests: XCTestCase {
    func testRawBodyGivesThePredictionJSON() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/predict", method: .post,
                                             headers: [.contentType: "image/jpeg", .xFilename: "tabby.jpg"], body: buffer("cat"))
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            let out = try decode(PredictResponse.self, r)
            XCTAssertEqual(out.predictions, [ServiceTestDouble.expected("cat", path: "tabby.jpg")!])
            XCTAssertGreaterThanOrEqual(out.timing_ms, 0)
            XCTAssertEqual(out.batch_images, 1)
            // The prediction objects carry exactly the keys of `discern predict --json`.
            let json = try JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as! [String: Any]
            let first = (json["predictions"] as! [[String: Any]])[0]
            XCTAssertEqual(Set(first.keys), ["path", "label", "scores", "logits", "ood", "verdict", "reason", "threshold", "score",
                                             "unknown", "unsure"])
            XCTAssertEqual(Set(json.keys), ["predictions", "timing_ms", "batch_images"])
        }
    }

    func testNameFromQueryAndDefault() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let a = try await client.execute(uri: "/v1/predict?name=rex.png", method: .post, body: buffer("dog"))
            XCTAssertEqual(try decode(PredictResponse.self, a).predictions.first?.path, "rex.png")
            let b = try await client.execute(uri: "/v1/predict", method: .post, body: buffer("flower"))
            let p = try decode(PredictResponse.self, b).predictions
            XCTAssertEqual(p, [ServiceTestDouble.expected("flower", path: "upload")!])
            XCTAssertEqual(p.first?.verdict, .unknown)
            XCTAssertEqual(p.first?.unknown, Evidence(score: .knn, value: 0.2, threshold: 0.5))
        }
    }

    func testMultipartWithSeveralImagesKeepsOrderAndNames() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let body = multipartBody(boundary: "XyZ-42", parts: [("image", "a.jpg", "dog"), ("image", "b.jpg", "cat"), ("image", nil, "flower")])
            let r = try await client.execute(uri: "/v1/predict", method: .post,
                                             headers: [.contentType: "multipart/form-data; boundary=XyZ-42"], body: body)
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            XCTAssertEqual(try decode(PredictResponse.self, r).predictions, [
                ServiceTestDouble.expected("dog", path: "a.jpg")!, ServiceTestDouble.expected("cat", path: "b.jpg")!,
                ServiceTestDouble.expected("flower", path: "image3")!,
            ])
        }
    }

    func testServiceErrorsMapToStatuses() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            func post(_ word: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/predict", method: .post, headers: [.xFilename: "x.jpg"], body: buffer(word))
            }
            try assertError(try await post("corrupt"), .unprocessableContent, contains: "x.jpg: JPEG data ends early")
            try assertError(try await post("unsupported"), .unsupportedMediaType, contains: "x.jpg: not a JPEG or PNG")
            try assertError(try await post("bomb"), .contentTooLarge, contains: "pixels")
        }
    }

    func testInternalErrorsAre500WithoutDetails() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/predict", method: .post, body: buffer("explode"))
            try assertError(r, .internalServerError, contains: "internal error")
            XCTAssertFalse(String(buffer: r.body).contains("/internal/path"))
            let e = try await client.execute(uri: "/v1/explain", method: .post, body: buffer("explode"))
            try assertError(e, .internalServerError, contains: "internal error")
        }
    }

    func testBodyLimit() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig { $0.maxBodyBytes = 100 })
        try await app.test(.router) { client in
            let big = buffer(String(repeating: "x", count: 101))
            try assertError(try await client.execute(uri: "/v1/predict", method: .post, body: big), .contentTooLarge, contains: "100 bytes")
            // Exactly at the limit is accepted (and reaches the service, which rejects the content).
            let atLimit = buffer(String(repeating: "x", count: 100))
            try assertError(try await client.execute(uri: "/v1/predict", method: .post, body: atLimit), .unprocessableContent, contains: "unknown test image")
        }
    }

    func testBadRequests() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig { $0.maxImagesPerRequest = 2 })
        try await app.test(.router) { client in
            func post(_ body: ByteBuffer, _ type: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: type], body: body)
            }
            let mp = "multipart/form-data; boundary=b0"
            try assertError(try await post(buffer(""), "image/jpeg"), .badRequest, contains: "empty")
            try assertError(try await post(buffer("--b0\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\ncat"), mp),
                            .badRequest, contains: "truncated")
            try assertError(try await post(multipartBody(boundary: "b0", parts: [("photo", "a.jpg", "cat")]), mp),
                            .badRequest, contains: "unexpected form field \"photo\"")
            try assertError(try await post(buffer("--b0--\r\n"), mp), .badRequest, contains: "no \"image\" part")
            try assertError(try await post(multipartBody(boundary: "b0", parts: Array(repeating: ("image", "a.jpg", "cat"), count: 3)), mp),
                            .badRequest, contains: "more than 2")
            try assertError(try await post(buffer("cat"), "multipart/form-data"), .badRequest, contains: "without a boundary")
            try assertError(try await post(buffer("cat"), "multipart/mixed; boundary=b0"), .unsupportedMediaType, contains: "multipart/form-data")
        }
    }

    func testTimeoutGives503AndServerKeepsAnswering() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig { $0.requestTimeoutSeconds = 0.3 })
        try await app.test(.router) { client in
            try assertError(try await client.execute(uri: "/v1/predict", method: .post, body: buffer("slow")),
                            .serviceUnavailable, contains: "not answered")
            try assertError(try await client.execute(uri: "/v1/explain", method: .post, body: buffer("slow")),
                            .serviceUnavailable, contains: "not answered")
            let health = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(health.status, .ok)
        }
    }
}
