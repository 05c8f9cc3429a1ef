import DiscernEngine

/// A batch of backbone features and their labels.
public struct FeatureBatch: Sendable {
    public var features: Tensor   // [n, featureCount]
    public var labels: [Int]
    public init(features: Tensor, labels: [Int]) {
        self.features = features
        self.labels = labels
    }
}

public struct TrainingConfig: Sendable, Codable, Equatable {
    public var epochs = 20
    public var batchSize = 32
    public var learningRate = 0.001
    public var beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    /// A checkpoint is offered after every epoch whose running accuracy exceeds this (nil: only the final one).
    public var checkpointThreshold: Double? = 0.95
    public var seed: UInt64 = 0
    public init() {}
}

/// One optimizer step. `runningAccuracy` = correct so far in the epoch / seen so far in the
/// epoch, using the logits computed before the step (as the study's loop did).
public struct IterationRecord: Sendable, Codable, Equatable {
    public let epoch: Int          // 0-based
    public let iteration: Int      // 0-based over the whole run
    public let batchSize: Int
    public let loss: Float
    public let runningAccuracy: Double
    public init(epoch: Int, iteration: Int, batchSize: Int, loss: Float, runningAccuracy: Double) {
        self.epoch = epoch
        self.iteration = iteration
        self.batchSize = batchSize
        self.loss = loss
        self.runningAccuracy = runningAccuracy
    }
}

public struct EpochSummary: Sendable, Codable, Equatable {
    public let epoch: Int
    public let samples: Int
    public let meanLoss: Double     // sample-weighted mean of the batch losses
    public let accuracy: Double     // running accuracy at the end of the epoch
    public let seconds: Double
    public let checkpointed: Bool
    public init(epoch: Int, samples: Int, meanLoss: Double, accuracy: Double, seconds: Double, checkpointed: Bool) {
        self.epoch = epoch
        self.samples = samples
        self.meanLoss = meanLoss
        self.accuracy = accuracy
        self.seconds = seconds
        self.checkpointed = checkpointed
    }
}

public struct TrainingHistory: Sendable, Codable, Equatable {
    public var iterations: [IterationRecord] = []
    public var epochs: [EpochSummary] = []
    public init() {}
}

public struct TrainingProgress: Sendable {
    public let epoch: Int, epochs: Int
    public let batch: Int             // 1-based within the epoch
    public let batchesPerEpoch: Int?  // nil when the caller could not say
    public let seen: Int              // samples seen so far in the epoch
    public let loss: Float
    public let runningAccuracy: Double
    public let elapsed: Double        // seconds since `train` started (for rate and ETA)
}

public struct Checkpoint: Sendable {
    public enum Reason: String, Sendable, Codable { case threshold, final }
    public let reason: Reason
    public let epoch: Int
    public let accuracy: Double
    public let head: LinearParams
}
