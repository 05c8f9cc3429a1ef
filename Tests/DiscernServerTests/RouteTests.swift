import DiscernKit
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

final class RouteTests: XCTestCase {
    func testHealthzAndRequestIDs() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let a = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(a.status, .ok)
            XCTAssertEqual(String(buffer: a.body), #"{"status":"ok"}"#)
            let b = try await client.execute(uri: "/healthz", method: .get)
            let (idA, idB) = (a.headers[.xRequestID], b.headers[.xRequestID])
            XCTAssertNotNil(idA)
            XCTAssertNotEqual(idA, idB, "each request gets its own id")
        }
    }

    func testModelInfo() async throws {
        let service = ServiceTestDouble()
        let app = DiscernServer.makeApplication(service: service, config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/model", method: .get)
            XCTAssertEqual(r.status, .ok)
            let info = try decode(ModelInfo.self, r)
            XCTAssertEqual(info.classes, ["cat", "dog"])
            XCTAssertEqual(info.backbone, "test-double")
            XCTAssertEqual(info.score, .knn)
            XCTAssertEqual(info.threshold, 0.5)
            XCTAssertEqual(info.metrics, ["auroc": 0.99])
        }
    }

    func testPageIsSelfContained() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/", method: .get)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/html; charset=utf-8")
            let html = String(buffer: r.body)
            for needle in ["/v1/predict", "/v1/explain", "/v1/model", "UNKNOWN", "UNSURE", "p.reason", "type=\"file\"", "drop"] {
                XCTAssertTrue(html.contains(needle), "page lacks \(needle)")
            }
            // Works offline: no external scripts, styles, images or fonts.
            for external in ["http://", "https://", "src=\"//", "@import"] {
                XCTAssertFalse(html.contains(external), "page references \(external)")
            }
        }
    }

    func testUnknownRouteIs404JSON() async throws {
        let app = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v2/nothing", method: .get)
            XCTAssertEqual(r.status, .notFound)
            XCTAssertNotNil(try decode(ErrorResponse.self, r).error)
        }
    }

    func testExamplesAreOffByDefaultAndConfined() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("discern-examples-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("cat".utf8).write(to: dir.appendingPathComponent("cat.jpg"))
        try Data("secret".utf8).write(to: dir.appendingPathComponent("notes.txt"))

        let off = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig())
        try await off.test(.router) { client in
            try assertError(try await client.execute(uri: "/examples/cat.jpg", method: .get), .notFound, contains: "not enabled")
        }
        let on = DiscernServer.makeApplication(service: ServiceTestDouble(), config: testConfig { $0.examplesDirectory = dir.path })
        try await on.test(.router) { client in
            let r = try await client.execute(uri: "/examples/cat.jpg", method: .get)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "image/jpeg")
            XCTAssertEqual(String(buffer: r.body), "cat")
            for bad in ["notes.txt", "..%2Fcat.jpg", ".hidden.jpg", "missing.jpg"] {
                let r = try await client.execute(uri: "/examples/\(bad)", method: .get)
                XCTAssertEqual(r.status, .notFound, bad)
            }
        }
    }
}
