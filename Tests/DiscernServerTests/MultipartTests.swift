@testable import DiscernServer
import Foundation
import XCTest

/// The parser against bodies written by an independent encoder (urllib3; tools/server/make_multipart_fixtures.py).
final class MultipartTests: XCTestCase {
    struct Case: Decodable {
        struct Part: Decodable { var name: String; var filename: String; var body_base64: String }
        var file: String
        var content_type: String
        var parts: [Part]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/server")

    func testParsesUrllib3Bodies() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("multipart.json")))
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let body = try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent(c.file)))
            let boundary = try XCTUnwrap(try Multipart.boundary(contentType: c.content_type))
            let parts = try Multipart.parse(body, boundary: boundary, maxParts: 8)
            XCTAssertEqual(parts.count, c.parts.count, c.file)
            for (got, want) in zip(parts, c.parts) {
                XCTAssertEqual(got.name, want.name)
                XCTAssertEqual(got.filename, want.filename)
                XCTAssertEqual(got.contentType, "image/jpeg")
                XCTAssertEqual(got.body, [UInt8](Data(base64Encoded: want.body_base64)!), "\(c.file) \(want.filename)")
            }
        }
    }

    func testBoundaryParameter() throws {
        XCTAssertNil(try Multipart.boundary(contentType: "image/jpeg"))
        XCTAssertEqual(try Multipart.boundary(contentType: "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b\""), "a b")
        XCTAssertThrowsError(try Multipart.boundary(contentType: "multipart/form-data; boundary="))
        XCTAssertThrowsError(try Multipart.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)))
    }

    func testRejectsMalformedBodiesWithoutCrashing() {
        let cases: [(String, String)] = [
            ("", "no boundary line"),
            ("--b\r\n", "headers missing"),
            ("--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--", "without Content-Disposition"),
            ("--b\r\nContent-Disposition: attachment; name=\"image\"\r\n\r\nxx\r\n--b--", "not form-data"),
            ("--b\r\nno colon here\r\n\r\nxx\r\n--b--", "malformed multipart header"),
            ("--bXX\r\n", "malformed multipart boundary"),
            ("--b\r\n" + String(repeating: "h", count: 9000), "longer than"),
        ]
        for (body, message) in cases {
            XCTAssertThrowsError(try Multipart.parse(Array(body.utf8), boundary: "b", maxParts: 4), body) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error) for \(body.prefix(40))")
            }
        }
        // Every truncation of a valid body is refused or parsed, never a crash.
        let valid = Array("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\\\"q.jpg\"\r\n\r\nDATA\r\n--b--\r\n".utf8)
        XCTAssertEqual(try Multipart.parse(valid, boundary: "b", maxParts: 1).first?.filename, "a\"q.jpg")
        for n in 0..<valid.count { _ = try? Multipart.parse(Array(valid[..<n]), boundary: "b", maxParts: 1) }
    }
}
