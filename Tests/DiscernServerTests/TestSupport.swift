import DiscernKit
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest

struct PredictResponse: Decodable {
    var predictions: [Prediction]
    var timing_ms: Double
    var batch_images: Int
}

struct ErrorResponse: Decodable { var error: String }

extension HTTPField.Name {
    static let xFilename = HTTPField.Name("X-Filename")!
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}

func testConfig(_ edit: (inout ServerConfig) -> Void = { _ in }) -> ServerConfig {
    var c = ServerConfig()
    c.maxDelayMs = 1
    edit(&c)
    return c
}

func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

/// A multipart/form-data body as browsers and curl write it.
func multipartBody(boundary: String, parts: [(name: String, filename: String?, content: String)]) -> ByteBuffer {
    var s = ""
    for p in parts {
        s += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\""
        if let f = p.filename { s += "; filename=\"\(f)\"" }
        s += "\r\nContent-Type: image/jpeg\r\n\r\n\(p.content)\r\n"
    }
    s += "--\(boundary)--\r\n"
    return ByteBuffer(string: s)
}

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    } catch {
        XCTFail("undecodable body: \(String(buffer: response.body))", file: file, line: line)
        throw error
    }
}

/// Checks the status and that the body is `{"error": "..."}` mentioning `contains`.
func assertError(_ response: TestResponse, _ status: HTTPResponse.Status, contains: String,
                 file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(response.status, status, String(buffer: response.body), file: file, line: line)
    XCTAssertEqual(response.headers[.contentType], "application/json", file: file, line: line)
    let e = try decode(ErrorResponse.self, response, file: file, line: line)
    XCTAssertTrue(e.error.contains(contains), "\(e.error) does not mention \(contains)", file: file, line: line)
    XCTAssertNotNil(response.headers[.xRequestID], file: file, line: line)
}
