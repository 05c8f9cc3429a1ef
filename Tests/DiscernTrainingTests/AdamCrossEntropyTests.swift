import XCTest
import DiscernEngine
@testable import DiscernTraining

/// Compares head training with what PyTorch's nn.CrossEntropyLoss + torch.optim.Adam did on the same data.
final class AdamCrossEntropyTests: XCTestCase {
    struct Ref {
        let x: Tensor, labels: [Int], order: [[Int]], batch: Int
        let t: [String: Tensor]
        init() throws {
            let f = try trainingFixture("adam_ce.safetensors")
            t = f.tensors
            x = t["features"]!
            labels = t["labels"]!.data.map { Int($0) }
            let o = t["order"]!
            order = (0..<o.shape[0]).map { e in o.data[e * o.shape[1] ..< (e + 1) * o.shape[1]].map { Int($0) } }
            batch = Int(f.metadata["batch"]!)!
        }
        func batches(_ epoch: Int) -> [FeatureBatch] {
            let f = x.shape[1]
            return stride(from: 0, to: labels.count, by: batch).map { s in
                let idx = order[epoch][s..<min(s + batch, labels.count)]
                return FeatureBatch(
                    features: Tensor(shape: [idx.count, f], data: idx.flatMap { x.data[$0 * f..<($0 + 1) * f] }),
                    labels: idx.map { labels[$0] })
            }
        }
        func head() throws -> LinearParams { try LinearParams(weight: t["w0"]!, bias: t["b0"]!) }
    }

    func testFirstStepLogitsLossAndGradients() throws {
        let r = try Ref()
        let b = r.batches(0)[0]
        let head = try r.head()
        let logits = try head.logits(b.features)
        assertClose(logits.data, r.t["logits_step1"]!.data, tol: 1e-5, "logits")
        assertClose(Softmax.probabilities(logits).data, r.t["softmax_step1"]!.data, tol: 1e-6, "softmax")
        let ce = try CrossEntropy.evaluate(logits: logits, labels: b.labels)
        assertClose([ce.loss], [r.t["losses"]!.data[0]], tol: 1e-6, "loss")
        let g = try head.gradients(input: b.features, logitGradient: ce.logitGradient)
        assertClose(g.weight.data, r.t["grad_w_step1"]!.data, tol: 1e-5, "dW")
        assertClose(g.bias.data, r.t["grad_b_step1"]!.data, tol: 1e-5, "db")
    }

    func testTrainerMatchesTorchOverAllSteps() throws {
        let r = try Ref()
        var cfg = TrainingConfig()
        cfg.epochs = r.order.count
        cfg.checkpointThreshold = nil
        let trainer = HeadTrainer(head: try r.head(), config: cfg)
        var checkpoints: [Checkpoint] = []
        trainer.onCheckpoint = { checkpoints.append($0) }
        let h = try trainer.train { r.batches($0) }
        XCTAssertEqual(h.iterations.count, r.t["losses"]!.count)
        assertClose(h.iterations.map(\.loss), r.t["losses"]!.data, tol: 1e-5, "losses per step")
        assertClose(
            h.iterations.map { Float($0.runningAccuracy) }, r.t["running_accuracy"]!.data, tol: 1e-6, "running accuracy"
        )
        assertClose(trainer.head.weight.data, r.t["w_final"]!.data, tol: 1e-5, "final weight")
        assertClose(trainer.head.bias.data, r.t["b_final"]!.data, tol: 1e-5, "final bias")
        XCTAssertEqual(checkpoints.map(\.reason), [.final])
        XCTAssertEqual(checkpoints.last?.head, trainer.head)
    }

    func testAdamWithWeightDecayMatchesTorch() throws {
        let r = try Ref()
        var head = try r.head()
        var adam = Adam(weightDecay: 0.01)
        var losses: [Float] = []
        for e in 0..<r.order.count {
            for b in r.batches(e) {
                let ce = try CrossEntropy.evaluate(logits: try head.logits(b.features), labels: b.labels)
                let g = try head.gradients(input: b.features, logitGradient: ce.logitGradient)
                adam.update(&head, weightGradient: g.weight, biasGradient: g.bias)
                losses.append(ce.loss)
            }
        }
        XCTAssertEqual(adam.step, r.t["losses_wd"]!.count)
        assertClose(losses, r.t["losses_wd"]!.data, tol: 1e-5, "losses (weight decay)")
        assertClose(head.weight.data, r.t["w_final_wd"]!.data, tol: 1e-5, "final weight (weight decay)")
        assertClose(head.bias.data, r.t["b_final_wd"]!.data, tol: 1e-5, "final bias (weight decay)")
    }

    func testCrossEntropyRejectsBadLabels() {
        let logits = Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5])
        XCTAssertThrowsError(try CrossEntropy.evaluate(logits: logits, labels: [0, 3])) {
            XCTAssertEqual(($0 as? TrainingError)?.description, "label 3 of sample 1 is outside 0..<3")
        }
        XCTAssertThrowsError(try CrossEntropy.evaluate(logits: logits, labels: [0]))
    }

    func testCrossEntropyIsStableForHugeLogits() throws {
        // log(1 + e^-1000) ≈ 0 for the right class; 1000 for the wrong one — no overflow.
        let r = try CrossEntropy.evaluate(logits: Tensor(shape: [2, 2], data: [1000, 0, 1000, 0]), labels: [0, 1])
        XCTAssertEqual(r.loss, 500, accuracy: 1e-3)
        XCTAssertFalse(r.logitGradient.data.contains { !$0.isFinite })
    }

    func testHeadInitFollowsNNLinearBounds() {
        let f = 400
        let head = LinearParams(inFeatures: f, outFeatures: 5, seed: 3)
        let bound = 1 / Float(f).squareRoot()
        let w = head.weight.data
        XCTAssertTrue(w.allSatisfy { abs($0) <= bound } && head.bias.data.allSatisfy { abs($0) <= bound })
        // U(-b, b): mean 0, variance b²/3; 2000 draws put the sample statistics within a few %.
        let mean = w.reduce(0, +) / Float(w.count)
        let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)
        XCTAssertEqual(mean, 0, accuracy: 0.1 * bound)
        XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.1 * bound * bound / 3)
        XCTAssertEqual(head, LinearParams(inFeatures: f, outFeatures: 5, seed: 3), "same seed, same head")
        XCTAssertNotEqual(head, LinearParams(inFeatures: f, outFeatures: 5, seed: 4))
    }

    func testHeadRejectsWrongShapes() throws {
        XCTAssertThrowsError(try LinearParams(weight: Tensor(zeros: [2, 3]), bias: Tensor(zeros: [3])))
        let head = LinearParams(inFeatures: 3, outFeatures: 2, seed: 0)
        XCTAssertThrowsError(try head.logits(Tensor(zeros: [4, 5])))
    }
}
