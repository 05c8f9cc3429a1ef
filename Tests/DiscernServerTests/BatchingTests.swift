import DiscernKit
import DiscernServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

/// The batch fires when full (maxBatch images) or after maxDelay; the delays here are far longer
/// than the test needs, so the outcome does not depend on timing.
final class BatchingTests: XCTestCase {
    func testConcurrentRequestsShareForwardPassesAndGetTheirOwnAnswers() async throws {
        let service = ServiceTestDouble()
        let app = DiscernServer.makeApplication(service: service, config: testConfig { $0.maxBatch = 8; $0.maxDelayMs = 20_000 })
        try await app.test(.router) { client in
            let words = (0..<16).map { ["cat", "dog", "flower"][$0 % 3] }
            let results = try await withThrowingTaskGroup(of: (Int, PredictResponse).self) { group in
                for (i, w) in words.enumerated() {
                    group.addTask {
                        let r = try await client.execute(uri: "/v1/predict", method: .post,
                                                         headers: [.xFilename: "img\(i).jpg"], body: buffer(w))
                        XCTAssertEqual(r.status, .ok)
                        return (i, try decode(PredictResponse.self, r))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            for (i, w) in words.enumerated() {
                XCTAssertEqual(results[i]?.predictions, [ServiceTestDouble.expected(w, path: "img\(i).jpg")!])
                XCTAssertEqual(results[i]?.batch_images, 8)
            }
        }
        XCTAssertEqual(service.batchSizes, [8, 8], "16 requests -> 2 full batches")
    }

    func testOneBadImageFailsOnlyItsRequest() async throws {
        let service = ServiceTestDouble()
        let app = DiscernServer.makeApplication(service: service, config: testConfig { $0.maxBatch = 4; $0.maxDelayMs = 20_000 })
        try await app.test(.router) { client in
            let words = ["cat", "corrupt", "dog", "unsupported"]
            let statuses = try await withThrowingTaskGroup(of: (Int, TestResponse).self) { group in
                for (i, w) in words.enumerated() {
                    group.addTask { (i, try await client.execute(uri: "/v1/predict", method: .post, body: buffer(w))) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            XCTAssertEqual(statuses[0]?.status, .ok)
            XCTAssertEqual(statuses[1]?.status, .unprocessableContent)
            XCTAssertEqual(statuses[2]?.status, .ok)
            XCTAssertEqual(statuses[3]?.status, .unsupportedMediaType)
            XCTAssertEqual(try decode(PredictResponse.self, statuses[2]!).predictions.first?.label, "dog")
        }
        // One shared pass that failed, then each request alone.
        XCTAssertEqual(service.batchSizes, [4, 1, 1, 1, 1])
    }

    func testMultiImageRequestsAreNotSplitAcrossBatches() async throws {
        let service = ServiceTestDouble()
        let batcher = PredictionBatcher(service: service, maxBatch: 4, maxDelay: .milliseconds(50))
        let three = (0..<3).map { ImageInput(name: "a\($0)", bytes: Array("cat".utf8)) }
        let two = (0..<2).map { ImageInput(name: "b\($0)", bytes: Array("dog".utf8)) }
        let two2 = (0..<2).map { ImageInput(name: "c\($0)", bytes: Array("dog".utf8)) }
        async let a = batcher.submit(three)
        async let b = batcher.submit(two)
        async let c = batcher.submit(two2)
        let (ra, rb, rc) = try await (a, b, c)
        XCTAssertEqual(ra.predictions.map(\.path), ["a0", "a1", "a2"])
        XCTAssertEqual(rb.predictions.map(\.path), ["b0", "b1"])
        XCTAssertEqual(rc.predictions.map(\.path), ["c0", "c1"])
        // 7 images in whole requests of 3, 2, 2 with at most 4 per pass: 2 or 3 passes, none over 4.
        XCTAssertEqual(service.batchSizes.reduce(0, +), 7)
        XCTAssertTrue(service.batchSizes.allSatisfy { $0 <= 4 }, "\(service.batchSizes)")
        XCTAssertTrue((2...3).contains(service.batchSizes.count), "\(service.batchSizes)")
    }

    func testCancelledRequestLeavesTheQueueAndOthersProceed() async throws {
        let service = ServiceTestDouble()
        let batcher = PredictionBatcher(service: service, maxBatch: 2, maxDelay: .milliseconds(20_000))
        let cat = ImageInput(name: "c", bytes: Array("cat".utf8))
        let abandoned = Task { try await batcher.submit([cat]) }
        abandoned.cancel()
        do {
            _ = try await abandoned.value
            XCTFail("a cancelled request must not be answered")
        } catch is CancellationError {}
        async let b = batcher.submit([ImageInput(name: "b", bytes: Array("dog".utf8))])
        async let d = batcher.submit([ImageInput(name: "d", bytes: Array("dog".utf8))])
        let (rb, rd) = try await (b, d)
        XCTAssertEqual(rb.predictions.map(\.path), ["b"])
        XCTAssertEqual(rd.predictions.map(\.path), ["d"])
        XCTAssertEqual(service.batchSizes, [2], "the cancelled image never reached the model")
    }
}
