import Foundation
import DiscernEngine

/// Per-class metrics of one evaluated set, ready for metrics.json and report tables.
/// Undefined ratios (no samples / never predicted) are nil rather than NaN, so JSON stays valid.
public struct ClassificationSummary: Sendable, Codable, Equatable {
    public struct PerClass: Sendable, Codable, Equatable {
        public let name: String
        public let precision: Double?
        public let recall: Double?
        public let f1: Double?
        public let support: Int
    }
    public let images: Int
    public let accuracy: Double
    public let classes: [PerClass]
    public let confusion: [[Int]]          // [true][predicted]
    public let errors: [String: Int]       // bucket name -> count

    public init(_ table: PredictionTable) throws {
        guard !table.rows.isEmpty else { throw TrainingError.empty("no evaluated images to summarise") }
        let matrix = try table.confusion()
        func defined(_ value: Double) -> Double? { value.isNaN ? nil : value }
        images = table.rows.count
        accuracy = table.accuracy
        classes = table.classes.indices.map { k in
            PerClass(
                name: table.classes[k], precision: defined(matrix.precision(k)),
                recall: defined(matrix.recall(k)),
                f1: defined(matrix.precision(k)).flatMap { _ in
                    defined(matrix.recall(k)).map { _ in matrix.f1(k) }
                },
                support: matrix.support[k])
        }
        confusion = matrix.counts
        errors = Dictionary(
            uniqueKeysWithValues: ErrorBucket.allCases.map { ($0.rawValue, table.errors(in: $0).count) })
    }
}

extension TrainingHistory {
    /// One line per iteration: epoch,iteration,batch_size,loss,running_accuracy.
    public func csv() -> String {
        "epoch,iteration,batch_size,loss,running_accuracy\n"
            + iterations.map { "\($0.epoch),\($0.iteration),\($0.batchSize),\($0.loss),\($0.runningAccuracy)" }.joined(
                separator: "\n") + "\n"
    }

    public func writeJSON(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: url)
    }
}

extension LinearParams {
    /// The head's tensors under PyTorch-style names ("<prefix>.weight", "<prefix>.bias") for a model file.
    public func namedTensors(prefix: String = "head") -> [String: Tensor] {
        ["\(prefix).weight": weight, "\(prefix).bias": bias]
    }

    /// Reads a head back from `namedTensors`; a missing or misshaped tensor is a readable error.
    public init(namedTensors tensors: [String: Tensor], prefix: String = "head") throws {
        guard let weight = tensors["\(prefix).weight"], let bias = tensors["\(prefix).bias"] else {
            throw TrainingError.shape("model has no \(prefix).weight / \(prefix).bias tensors")
        }
        try self.init(weight: weight, bias: bias)
    }
}
