import Foundation
import XCTest
import DiscernTestSupport

/// `discern serve` as a cluster sees it, through real clients: tritonclient (Open Inference Protocol v2),
/// prometheus_client's text parser, and a SIGTERM while requests are in flight.
final class ServeClusterTests: XCTestCase {
    /// Readiness is false while the model loads; then the v2 infer route answers tritonclient with the labels,
    /// verdicts and probabilities of `discern predict --json`, and the metrics count what happened.
    func testInferenceProtocolAgreesWithPredictAndMetricsMove() throws {
        let model = try ServeCluster.model()
        let images = try ServeCluster.images()
        let server = try ServeProcess(model: model, arguments: ["--max-delay-ms", "2"])
        // The listener runs before the model is loaded: alive, not yet ready.
        let firstReady = server.status("/v2/health/ready")
        XCTAssertEqual(server.status("/v2/health/live"), 200)
        XCTAssertEqual(firstReady, 503, "readiness must be false until the model is loaded and warmed up")
        try server.waitUntilReady()

        let before = try ServeCluster.client(["metrics", "--url", server.url])
        let answer = try ServeCluster.client(["infer", "--url", server.url, "--model", "discern"] + images)
        let after = try ServeCluster.client(["metrics", "--url", server.url])

        let cli = try TestPaths.run(["predict", "--model", model.path, "--json"] + images)
        XCTAssertEqual(cli.status, 0, cli.err)
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as? [[String: Any]])
        let classes = ["cats", "dogs"]
        XCTAssertEqual(answer["live"] as? Bool, true)
        XCTAssertEqual(answer["ready"] as? Bool, true)
        XCTAssertEqual(answer["model_ready"] as? Bool, true)
        let metadata = try XCTUnwrap(answer["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["name"] as? String, "discern")
        let outputs = try XCTUnwrap(metadata["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.map { $0["name"] as? String }, ["label", "probabilities", "verdict", "reason", "scores"])
        XCTAssertEqual(outputs[1]["shape"] as? [Int], [-1, 2])
        for encoding in ["binary", "json"] {
            let got = try XCTUnwrap(answer[encoding] as? [String: Any], encoding)
            XCTAssertEqual(got["label"] as? [String], expected.map { $0["label"] as? String ?? "?" }, encoding)
            XCTAssertEqual(got["verdict"] as? [String], expected.map { $0["verdict"] as? String ?? "?" }, encoding)
            XCTAssertEqual(got["reason"] as? [String], expected.map { $0["reason"] as? String ?? "?" }, encoding)
            XCTAssertEqual(got["probabilities_dtype"] as? String, "float32", encoding)
            let probabilities = try XCTUnwrap(got["probabilities"] as? [[Double]], encoding)
            let scores = try XCTUnwrap(got["scores"] as? [[String: Double]], encoding)
            XCTAssertEqual(probabilities.count, images.count)
            for (i, row) in expected.enumerated() {
                let want = try XCTUnwrap(row["scores"] as? [String: Double])
                for (c, name) in classes.enumerated() {
                    XCTAssertEqual(probabilities[i][c], want[name] ?? .nan, accuracy: 1e-6, "\(encoding) \(i) \(name)")
                }
                let ood = try XCTUnwrap(row["ood"] as? [String: Double])
                XCTAssertEqual(Set(scores[i].keys), Set(ood.keys), encoding)
                for (name, value) in ood {
                    XCTAssertEqual(scores[i][name] ?? .nan, value, accuracy: 1e-9 * max(1, abs(value)), name)
                }
            }
        }
        XCTAssertEqual(expected.map { $0["label"] as? String }.prefix(2), ["cats", "dogs"], "the model is a real one")

        // Two infer requests of three images each moved the counters by exactly that.
        let route = "/v2/models/{name}/infer"   // the route as Hummingbird names it
        XCTAssertTrue((after["content_type"] as? String ?? "").hasPrefix("text/plain; version=0.0.4"))
        let requests = ["route": route, "status": "200"]
        XCTAssertEqual(try sample(after, "discern_http_requests_total", requests)
                           - sample(before, "discern_http_requests_total", requests, absent: 0), 2)
        XCTAssertEqual(try sample(after, "discern_http_request_duration_seconds_count", ["route": route])
                           - sample(before, "discern_http_request_duration_seconds_count", ["route": route],
                                    absent: 0), 2)
        XCTAssertEqual(try sample(after, "discern_images_total") - sample(before, "discern_images_total", absent: 0), 6)
        XCTAssertGreaterThan(try sample(after, "discern_images_per_second"), 0)
        XCTAssertEqual(try sample(after, "discern_model_ready"), 1)
        XCTAssertGreaterThanOrEqual(try sample(after, "discern_batch_images_count")
                                        - sample(before, "discern_batch_images_count", absent: 0), 2)
        let verdicts = try samples(after, "discern_verdicts_total")
        for row in expected {
            let labels = ["verdict": row["verdict"] as? String ?? "?", "reason": row["score"] as? String ?? "?"]
            XCTAssertNotNil(verdicts.first { $0.labels == labels }, "verdict counter \(labels) in \(verdicts)")
        }
        XCTAssertEqual(verdicts.map(\.value).reduce(0, +) - (try samples(before, "discern_verdicts_total"))
                           .map(\.value).reduce(0, +), 6)

        kill(server.pid, SIGTERM)
        XCTAssertEqual(server.waitForExit(seconds: 30), 0, server.logText)
    }

    /// SIGTERM while requests wait in the batch window: the listener closes (a new connection is refused), every
    /// accepted request is answered, and the process exits 0.
    func testSIGTERMFinishesEveryAcceptedRequest() throws {
        let model = try ServeCluster.model()
        let cat = try ServeCluster.images()[0]
        let server = try ServeProcess(model: model, arguments: ["--max-delay-ms", "1500"])
        try server.waitUntilReady()
        let answer = try ServeCluster.client(["drain", "--url", server.url, "--pid", String(server.pid),
                                              "--image", cat, "--requests", "6"])
        let status = server.waitForExit(seconds: 60)
        let requests = try XCTUnwrap(answer["requests"] as? [[String: Any]])
        XCTAssertEqual(requests.count, 6)
        for request in requests {
            XCTAssertEqual(request["accepted"] as? Bool, true, "\(request)")
            XCTAssertEqual(request["status"] as? Int, 200, "\(request)")
            XCTAssertEqual(request["label"] as? String, "cats", "\(request)")
        }
        let late = try XCTUnwrap(answer["after_sigterm"] as? [String: Any])
        XCTAssertEqual(late["refused"] as? Bool, true, "a connection after SIGTERM must be refused: \(late)")
        XCTAssertEqual(status, 0, server.logText)
        XCTAssertTrue(server.logText.contains("every accepted request was answered"), server.logText)
    }

    private struct Sample { var labels: [String: String]; var value: Double }

    private func samples(_ metrics: [String: Any], _ name: String) throws -> [Sample] {
        let families = try XCTUnwrap(metrics["families"] as? [String: [String: Any]])
        return families.values.flatMap { family in
            (family["samples"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == name }.map {
                Sample(labels: $0["labels"] as? [String: String] ?? [:], value: $0["value"] as? Double ?? .nan)
            }
        }
    }

    /// The value of the one sample of `name` whose labels include `labels` (`absent` when there is none yet).
    private func sample(_ metrics: [String: Any], _ name: String, _ labels: [String: String] = [:],
                        absent: Double? = nil) throws -> Double {
        let matching = try samples(metrics, name).filter { s in labels.allSatisfy { s.labels[$0.key] == $0.value } }
        if matching.isEmpty, let absent { return absent }
        guard matching.count == 1 else {
            throw MissingPrerequisite("one \(name) sample with \(labels), found \(matching.count)", fix: "see /metrics")
        }
        return matching[0].value
    }
}
