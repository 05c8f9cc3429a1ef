import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import DiscernVision

/// `discern serve` through the binary with the shared run's model, over loopback: /v1/predict answers what
/// `discern predict --json` prints, /v1/explain what `discern explain` computes, and the page is served.
final class ServeCommandTests: XCTestCase {
    func testPredictExplainAndPageOverLoopback() throws {
        let model = try TrainedModel.shared()
        let server = try LoopbackServer(model: model.modelPath)
        defer { server.stop() }
        let photo = try model.testImages()[0].path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: photo))

        // /v1/predict: the prediction object is exactly predict --json's for the same file.
        let predicted = try server.request("/v1/predict", body: bytes, headers: ["X-Filename": photo])
        XCTAssertEqual(predicted.status, 200, String(decoding: predicted.body, as: UTF8.self))
        let served: [String: Any] = try JSONFile.parse(String(decoding: predicted.body, as: UTF8.self))
        let predictions = try value(served, "predictions", as: [[String: Any]].self)
        let cli = try predictJSON(model.modelPath, [photo])
        XCTAssertEqual(predictions.count, 1)
        assertSameJSON(predictions[0], cli[0], tolerance: 1e-6)

        // /v1/explain: the class and attention area `discern explain` reports; heatmap and overlay at the photo's size.
        let explained = try server.request("/v1/explain?method=gradcam", body: bytes,
                                           headers: ["Accept": "application/json"])
        XCTAssertEqual(explained.status, 200, String(decoding: explained.body, as: UTF8.self))
        let e: [String: Any] = try JSONFile.parse(String(decoding: explained.body, as: UTF8.self))
        let out = try TestPaths.temporaryDirectory("serve-explain")
        let line = try discern(["explain", "--model", model.modelPath, "--method", "gradcam", "--out", out.path, photo])
        let image = try ImageCodec.decodeFile(photo)
        XCTAssertEqual(e["class"] as? String, cli[0]["label"] as? String)
        XCTAssertTrue(line.contains("explained '\(e["class"] as? String ?? "?")'"), line)
        let area = try value(e, "attention_area", as: Double.self)
        XCTAssertTrue(line.contains(String(format: "attention area %.3f", area)), line)
        XCTAssertEqual(try value(e, "heatmap", "width", as: Int.self), image.width)
        XCTAssertEqual(try value(e, "heatmap", "height", as: Int.self), image.height)
        let heat = try value(e, "heatmap", "data", as: [Double].self)
        XCTAssertEqual(heat.count, image.width * image.height)
        XCTAssertEqual(heat.max() ?? 0, 1, accuracy: 1e-4)
        XCTAssertEqual(heat.min() ?? 1, 0, accuracy: 1e-4)
        let encoded = try value(e, "overlay_png_base64", as: String.self)
        let overlay = try ImageCodec.decode([UInt8](try XCTUnwrap(Data(base64Encoded: encoded))), name: "overlay.png")
        XCTAssertEqual([overlay.width, overlay.height], [image.width, image.height])
        let png = try server.request("/v1/explain", body: bytes)
        XCTAssertEqual(png.status, 200)
        XCTAssertEqual(Array(png.body.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "the default answer is a PNG")

        // The page and the model description it shows.
        let page = try server.request("/", method: "GET")
        XCTAssertEqual(page.status, 200)
        let html = String(decoding: page.body, as: UTF8.self)
        for part in ["<title>Discern</title>", "/v1/predict", "/v1/explain", "/v1/model"] {
            XCTAssertTrue(html.contains(part), "the page has \(part)")
        }
        let described = try server.request("/v1/model", method: "GET").body
        let info: [String: Any] = try JSONFile.parse(String(decoding: described, as: UTF8.self))
        XCTAssertEqual(info["classes"] as? [String], TrainedModel.classes)
    }
}

/// Same keys; strings, booleans and nulls equal; numbers within `tolerance`.
func assertSameJSON(_ a: Any, _ b: Any, tolerance: Double, path: String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    switch (a, b) {
    case let (x as [String: Any], y as [String: Any]):
        XCTAssertEqual(Set(x.keys), Set(y.keys), "keys at \(path)", file: file, line: line)
        for (k, v) in x {
            if let w = y[k] { assertSameJSON(v, w, tolerance: tolerance, path: path + "." + k, file: file, line: line) }
        }
    case let (x as [Any], y as [Any]):
        XCTAssertEqual(x.count, y.count, "count at \(path)", file: file, line: line)
        for (i, (v, w)) in zip(x, y).enumerated() {
            assertSameJSON(v, w, tolerance: tolerance, path: "\(path)[\(i)]", file: file, line: line)
        }
    case let (x as String, y as String):
        XCTAssertEqual(x, y, path, file: file, line: line)
    case let (x as NSNumber, y as NSNumber):
        XCTAssertEqual(x.doubleValue, y.doubleValue, accuracy: tolerance, path, file: file, line: line)
    case (is NSNull, is NSNull):
        break
    default:
        XCTFail("\(path): \(a) vs \(b)", file: file, line: line)
    }
}

/// `discern serve` on a free loopback port, stopped (SIGTERM) by `stop`.
final class LoopbackServer {
    let port: Int
    private let server: Process

    init(model: String) throws {
        var lastError = ""
        for _ in 0..<5 {
            let port = Int.random(in: 20_000..<60_000)
            let p = Process()
            p.executableURL = try TestPaths.binary
            p.arguments = ["serve", "--model", model, "--host", "127.0.0.1", "--port", "\(port)",
                           "--log-level", "warning"]
            let errors = Pipe()
            p.standardError = errors
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            // Ready when the model is loaded and warmed up (/healthz answers while it is still loading);
            // a process that exits (port taken) is retried on another port.
            let deadline = Date().addingTimeInterval(120)
            while p.isRunning, Date() < deadline {
                let health = try? Self.send(port: port, "/v2/health/ready", method: "GET", body: nil, headers: [:])
                if health?.status == 200 {
                    self.port = port
                    server = p
                    return
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
            if p.isRunning { p.terminate(); p.waitUntilExit() }
            lastError = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        throw CommandFailure("discern serve did not start: \(lastError)")
    }

    func stop() {
        guard server.isRunning else { return }
        server.terminate()
        server.waitUntilExit()
    }

    func request(_ path: String, method: String = "POST", body: Data? = nil,
                 headers: [String: String] = [:]) throws -> (status: Int, body: Data) {
        try Self.send(port: port, path, method: method, body: body, headers: headers)
    }

    static func send(port: Int, _ path: String, method: String, body: Data?,
                     headers: [String: String]) throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: 120)
        request.httpMethod = method
        request.httpBody = body
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<(Int, Data), Error> = .failure(CommandFailure("no answer"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { answer = .failure(error) } else {
                answer = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }
            done.signal()
        }.resume()
        done.wait()
        let (status, data) = try answer.get()
        return (status, data)
    }
}
