import XCTest
import DiscernEngine
@testable import DiscernTraining

final class TrainerTests: XCTestCase {
    /// Two separable blobs; 3 views differ by a small, view-specific shift.
    func cache(views: Int = 3, n: Int = 50) throws -> FeatureCache {
        let labels = (0..<n).map { $0 % 2 }
        let vs = (0..<views).map { v in
            Tensor(shape: [n, 2], data: labels.enumerated().flatMap { i, y in
                [Float(y == 0 ? -2 : 2) + Float(v) * 0.01, Float(i) * 0.001] })
        }
        return try FeatureCache(views: vs, labels: labels)
    }

    func testCacheEpochUsesEveryImageOnceAndCyclesViews() throws {
        let c = try cache()
        let e0 = try c.batches(epoch: 0, batchSize: 16, seed: 9)
        XCTAssertEqual(e0.map(\.labels.count), [16, 16, 16, 2])
        XCTAssertEqual(c.order(epoch: 0, seed: 9).sorted(), Array(0..<50))
        XCTAssertNotEqual(c.order(epoch: 0, seed: 9), c.order(epoch: 1, seed: 9), "reshuffled per epoch")
        XCTAssertEqual(c.order(epoch: 2, seed: 9), c.order(epoch: 2, seed: 9))
        // Over K epochs each image sees each of its K views exactly once.
        for i in 0..<50 { XCTAssertEqual(Set((0..<3).map { c.viewIndices(epoch: $0, seed: 9)[i] }), [0, 1, 2]) }
        // The batch rows are the cached rows of the right view.
        let order = c.order(epoch: 0, seed: 9), view = c.viewIndices(epoch: 0, seed: 9)
        let i = order[17]
        XCTAssertEqual(Array(e0[1].features.data[2..<4]), Array(c.views[view[i]].data[2 * i ..< 2 * i + 2]))
        XCTAssertEqual(e0[1].labels[1], c.labels[i])
    }

    func testCheckpointsWhenRunningAccuracyPassesThresholdAndAtEnd() throws {
        var cfg = TrainingConfig()
        cfg.epochs = 6
        cfg.batchSize = 8
        cfg.learningRate = 0.05
        cfg.checkpointThreshold = 0.9
        let trainer = HeadTrainer(
            head: try LinearParams(weight: Tensor(shape: [2, 2], data: [1, 0, -1, 0]), bias: Tensor(zeros: [2])),
            config: cfg)  // starts with every answer wrong
        var got: [(Checkpoint.Reason, Int)] = [], progress = 0
        trainer.onCheckpoint = { got.append(($0.reason, $0.epoch)) }
        trainer.onProgress = { p in
            progress += 1
            XCTAssertEqual(p.batchesPerEpoch, 7)
        }
        let h = try trainer.train(cache: try cache())
        XCTAssertEqual(progress, 6 * 7)
        XCTAssertEqual(h.iterations.count, 42)
        XCTAssertEqual(h.epochs.map(\.samples), Array(repeating: 50, count: 6))
        let expected = h.epochs.filter { $0.accuracy > 0.9 }.map(\.epoch)
        XCTAssertFalse(expected.isEmpty)
        XCTAssertLessThan(h.epochs[0].accuracy, 0.9)
        XCTAssertEqual(got.map(\.1), expected + [5])
        XCTAssertEqual(got.last?.0, .final)
        XCTAssertEqual(h.epochs.map(\.checkpointed), h.epochs.map { $0.accuracy > 0.9 })
        // Running accuracy restarts each epoch: the last record of an epoch is the epoch accuracy.
        for e in h.epochs { XCTAssertEqual(h.iterations.last { $0.epoch == e.epoch }?.runningAccuracy, e.accuracy) }
        XCTAssertEqual(
            try PredictionTable(
                classes: ["a", "b"], paths: Array(repeating: "", count: 50), labels: try cache().labels,
                logits: trainer.head.logits(try cache().views[0])
            ).accuracy, 1)
    }

    func testEmptyEpochIsAnError() {
        let trainer = HeadTrainer(head: LinearParams(inFeatures: 2, outFeatures: 2, seed: 1))
        XCTAssertThrowsError(try trainer.train { _ in [FeatureBatch]() })
    }
}

final class RNGTests: XCTestCase {
    /// SplitMix64 reference values (seed 0) from the algorithm's published C implementation.
    func testSplitMix64Sequence() {
        var r = SplitMix64(seed: 0)
        XCTAssertEqual(
            [r.next(), r.next(), r.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        var g = SplitMix64(seed: 5)
        let counts = (0..<6000).reduce(into: [0, 0, 0]) { c, _ in c[g.nextInt(below: 3)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 2000) < 200 }, "\(counts)")
    }
}
