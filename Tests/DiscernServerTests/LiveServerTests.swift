import DiscernKit
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

/// The same app over a real loopback socket (NIO HTTP/1 parsing, streaming bodies, Content-Length).
final class LiveServerTests: XCTestCase {
    func testPredictAndLimitsOverTheWire() async throws {
        let config = testConfig { $0.host = "127.0.0.1"; $0.port = 0; $0.maxBodyBytes = 4096 }
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: config)
        try await app.test(.live) { client in
            let ok = try await client.execute(uri: "/v1/predict", method: .post, headers: [.xFilename: "wire.jpg"], body: buffer("dog"))
            XCTAssertEqual(ok.status, .ok)
            XCTAssertEqual(try decode(PredictResponse.self, ok).predictions, [ServiceTestDouble.expected("dog", path: "wire.jpg")!])
            XCTAssertNotNil(ok.headers[.xRequestID])

            let big = try await client.execute(uri: "/v1/predict", method: .post, body: buffer(String(repeating: "z", count: 5000)))
            try assertError(big, .contentTooLarge, contains: "4096 bytes")

            let multipart = try await client.execute(
                uri: "/v1/predict", method: .post, headers: [.contentType: "multipart/form-data; boundary=w"],
                body: multipartBody(boundary: "w", parts: [("image", "1.jpg", "cat"), ("image", "2.jpg", "corrupt")]))
            try assertError(multipart, .unprocessableContent, contains: "2.jpg")
        }
    }
}
