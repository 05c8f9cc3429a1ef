import Foundation
import DiscernEngine

/// Trains a linear head with Adam on cross-entropy. The batches of each epoch come from the
/// caller (fresh augmentation per epoch) or from a `FeatureCache` (augmented views computed once).
public final class HeadTrainer {
    public private(set) var head: LinearHead
    public let config: TrainingConfig
    public private(set) var history = TrainingHistory()
    public var onProgress: ((TrainingProgress) -> Void)?
    /// Called after each epoch whose running accuracy exceeds the threshold, and once at the end.
    public var onCheckpoint: ((Checkpoint) throws -> Void)?
    private var optimizer: Adam

    public init(head: LinearHead, config: TrainingConfig = TrainingConfig()) {
        self.head = head
        self.config = config
        optimizer = Adam(learningRate: config.learningRate, beta1: config.beta1, beta2: config.beta2,
                         eps: config.eps, weightDecay: config.weightDecay)
    }

    /// Runs `config.epochs` epochs. For each epoch `feed(epoch, step)` must call `step` once per
    /// batch, in the order the batches should be trained on.
    @discardableResult
    public func train(batchesPerEpoch: Int? = nil,
                      feed: (_ epoch: Int, _ step: (FeatureBatch) throws -> Void) throws -> Void) throws -> TrainingHistory {
        let began = Date()
        for epoch in 0..<config.epochs {
            let start = Date()
            var correct = 0, seen = 0, batch = 0
            var lossSum = 0.0
            try feed(epoch) { b in
                let r = try self.step(b)
                correct += r.correct; seen += b.labels.count; batch += 1
                lossSum += Double(r.loss) * Double(b.labels.count)
                let acc = Double(correct) / Double(seen)
                self.history.iterations.append(IterationRecord(epoch: epoch, iteration: self.history.iterations.count,
                                                               batchSize: b.labels.count, loss: r.loss, runningAccuracy: acc))
                self.onProgress?(TrainingProgress(epoch: epoch, epochs: self.config.epochs, batch: batch,
                                                  batchesPerEpoch: batchesPerEpoch, seen: seen, loss: r.loss, runningAccuracy: acc,
                                                  elapsed: Date().timeIntervalSince(began)))
            }
            guard seen > 0 else { throw TrainingError.empty("epoch \(epoch + 1) had no training samples") }
            let acc = Double(correct) / Double(seen)
            let passes = config.checkpointThreshold.map { acc > $0 } ?? false
            if passes { try onCheckpoint?(Checkpoint(reason: .threshold, epoch: epoch, accuracy: acc, head: head)) }
            history.epochs.append(EpochSummary(epoch: epoch, samples: seen, meanLoss: lossSum / Double(seen),
                                               accuracy: acc, seconds: Date().timeIntervalSince(start), checkpointed: passes))
        }
        if let last = history.epochs.last {
            try onCheckpoint?(Checkpoint(reason: .final, epoch: last.epoch, accuracy: last.accuracy, head: head))
        }
        return history
    }

    /// Per-epoch batches from a sequence the caller builds (e.g. a shuffled loader + backbone).
    @discardableResult
    public func train<S: Sequence>(batchesPerEpoch: Int? = nil,
                                   batches: (_ epoch: Int) throws -> S) throws -> TrainingHistory where S.Element == FeatureBatch {
        try train(batchesPerEpoch: batchesPerEpoch) { epoch, step in
            for b in try batches(epoch) { try step(b) }
        }
    }

    /// Trains on cached augmented views; see `FeatureCache.batches(epoch:batchSize:seed:)`.
    @discardableResult
    public func train(cache: FeatureCache) throws -> TrainingHistory {
        let per = (cache.count + config.batchSize - 1) / config.batchSize
        return try train(batchesPerEpoch: per) { epoch in
            try cache.batches(epoch: epoch, batchSize: config.batchSize, seed: config.seed)
        }
    }

    /// Forward, loss, backward and one Adam step; returns the batch loss and how many the
    /// pre-step logits got right.
    public func step(_ b: FeatureBatch) throws -> (loss: Float, correct: Int) {
        let logits = try head.logits(b.features)
        let ce = try CrossEntropy.evaluate(logits: logits, labels: b.labels)
        let g = try head.gradients(input: b.features, logitGradient: ce.logitGradient)
        optimizer.update(&head, weightGradient: g.weight, biasGradient: g.bias)
        let pred = Evaluation.argmax(logits)
        return (ce.loss, zip(pred, b.labels).filter { $0 == $1 }.count)
    }
}
