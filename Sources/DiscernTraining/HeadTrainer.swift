import Foundation
import DiscernEngine

/// Trains a linear head with Adam on cross-entropy. The batches of each epoch come from the
/// caller (fresh augmentation per epoch) or from a `FeatureCache` (augmented views computed once).
public final class HeadTrainer {
    public private(set) var head: LinearParams
    public let config: TrainingConfig
    public private(set) var history = TrainingHistory()
    public var onProgress: ((TrainingProgress) -> Void)?
    /// Called after each epoch whose running accuracy exceeds the threshold, and once at the end.
    public var onCheckpoint: ((Checkpoint) throws -> Void)?
    private var optimizer: Adam

    public init(head: LinearParams, config: TrainingConfig = TrainingConfig()) {
        self.head = head
        self.config = config
        optimizer = Adam(learningRate: config.learningRate, beta1: config.beta1, beta2: config.beta2,
                         eps: config.eps, weightDecay: config.weightDecay)
    }

    /// Runs `config.epochs` epochs. For each epoch `feed(epoch, step)` must call `step` once per
    /// batch, in the order the batches should be trained on.
    @discardableResult
    public func train(
        batchesPerEpoch: Int? = nil,
        feed: (_ epoch: Int, _ step: (FeatureBatch) throws -> Void) throws -> Void
    ) throws -> TrainingHistory {
        let began = Date()
        for epoch in 0..<config.epochs {
            let start = Date()
            var correct = 0
            var seen = 0
            var batch = 0
            var lossSum = 0.0
            try feed(epoch) { features in
                let outcome = try self.step(features)
                correct += outcome.correct
                seen += features.labels.count
                batch += 1
                lossSum += Double(outcome.loss) * Double(features.labels.count)
                let accuracy = Double(correct) / Double(seen)
                self.history.iterations.append(IterationRecord(epoch: epoch, iteration: self.history.iterations.count,
                                                               batchSize: features.labels.count, loss: outcome.loss,
                                                               runningAccuracy: accuracy))
                self.onProgress?(TrainingProgress(epoch: epoch, epochs: self.config.epochs, batch: batch,
                                                  batchesPerEpoch: batchesPerEpoch, seen: seen, loss: outcome.loss,
                                                  runningAccuracy: accuracy, elapsed: Date().timeIntervalSince(began)))
            }
            guard seen > 0 else { throw TrainingError.empty("epoch \(epoch + 1) had no training samples") }
            let accuracy = Double(correct) / Double(seen)
            let passes = config.checkpointThreshold.map { accuracy > $0 } ?? false
            if passes {
                try onCheckpoint?(Checkpoint(reason: .threshold, epoch: epoch, accuracy: accuracy, head: head))
            }
            history.epochs.append(
                EpochSummary(
                    epoch: epoch, samples: seen, meanLoss: lossSum / Double(seen),
                    accuracy: accuracy, seconds: Date().timeIntervalSince(start),
                    checkpointed: passes))
        }
        if let last = history.epochs.last {
            try onCheckpoint?(Checkpoint(reason: .final, epoch: last.epoch, accuracy: last.accuracy, head: head))
        }
        return history
    }

    /// Per-epoch batches from a sequence the caller builds (e.g. a shuffled loader + backbone).
    @discardableResult
    public func train<S: Sequence>(
        batchesPerEpoch: Int? = nil,
        batches: (_ epoch: Int) throws -> S
    ) throws -> TrainingHistory where S.Element == FeatureBatch {
        try train(batchesPerEpoch: batchesPerEpoch) { epoch, step in
            for batch in try batches(epoch) { try step(batch) }
        }
    }

    /// Trains on cached augmented views; see `FeatureCache.batches(epoch:batchSize:seed:)`.
    @discardableResult
    public func train(cache: FeatureCache) throws -> TrainingHistory {
        let batchesPerEpoch = (cache.count + config.batchSize - 1) / config.batchSize
        return try train(batchesPerEpoch: batchesPerEpoch) { epoch in
            try cache.batches(epoch: epoch, batchSize: config.batchSize, seed: config.seed)
        }
    }

    /// Forward, loss, backward and one Adam step; returns the batch loss and how many the
    /// pre-step logits got right.
    public func step(_ batch: FeatureBatch) throws -> (loss: Float, correct: Int) {
        let logits = try head.logits(batch.features)
        let crossEntropy = try CrossEntropy.evaluate(logits: logits, labels: batch.labels)
        let gradients = try head.gradients(input: batch.features, logitGradient: crossEntropy.logitGradient)
        optimizer.update(&head, weightGradient: gradients.weight, biasGradient: gradients.bias)
        let predicted = Evaluation.argmax(logits)
        return (crossEntropy.loss, zip(predicted, batch.labels).filter { $0 == $1 }.count)
    }
}
