import Foundation
import DiscernEngine
import DiscernModels
import DiscernTraining

extension BenchRunner {
    /// One fine-tuning timing; the JSON keys are what tools/bench/bench_finetune.py reads.
    public struct FineTuneLine: Codable, Sendable {
        public var backbone: String
        public var batch: Int
        public var blocks: Int
        public var msPerStep: Double
        public var bestMsPerStep: Double
        public var prefixMsPerStep: Double
        public var isa: String
        public var kernels: [String]
        public var referenceFallbacks: Int
        enum CodingKeys: String, CodingKey {
            case backbone, batch, blocks, isa, kernels
            case msPerStep = "ms_per_step", bestMsPerStep = "best_ms_per_step", prefixMsPerStep = "prefix_ms_per_step"
            case referenceFallbacks = "reference_fallbacks"
        }
        public var line: String {
            String(format: "%@ fine-tuning the last %d blocks, batch %d: %.0f ms/step (median), best %.0f, "
                   + "frozen prefix %.0f", backbone, blocks, batch, msPerStep, bestMsPerStep, prefixMsPerStep)
                + "\noneDNN ISA: \(isa)" + kernels.map { "\n  \($0)" }.joined()
        }
    }

    /// Fine-tuning steps (frozen prefix forward on the fused session, then forward, backward and Adam on
    /// the last `blocks` blocks and a 2-class head) on random weights and images; one warm-up step.
    public static func fineTune(_ kind: BackboneKind, blocks: Int, batch: Int, iterations: Int) throws -> FineTuneLine {
        let backbone = try Backbone.build(kind, weights: nil)
        let split = try backbone.fineTuneSplit(unfreezing: blocks)
        let prefix = try split.prefix.map { try InferenceSession(graph: $0, batchSize: batch) }
        let trainable = try TrainableGraph(graph: split.tail, from: split.firstTrainable,
                                           groupStarts: split.groupStarts)
        let head = LinearParams(inFeatures: backbone.featureCount, outFeatures: 2, seed: 1)
        let tuner = FineTuner(trainable: trainable, head: head)
        let rates = OneCycle.discriminative(max: 1e-3, groups: tuner.groupCount)
        var rng = SplitMix64(state: 7)
        let size = backbone.inputSize
        let images = Tensor(shape: [batch, 3, size, size],
                            data: (0..<(batch * 3 * size * size)).map { _ in Float(rng.next() % 2000) / 1000 - 1 })
        let labels = (0..<batch).map { $0 % 2 }
        var total: [Double] = [], prefixTimes: [Double] = []
        for i in 0...max(1, iterations) {
            let start = Date()
            let input = try prefix?.run(images) ?? images
            let afterPrefix = Date()
            try tuner.step(input, labels: labels, learningRates: rates)
            if i > 0 {
                total.append(Date().timeIntervalSince(start) * 1000)
                prefixTimes.append(afterPrefix.timeIntervalSince(start) * 1000)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let log = KernelLog.shared
        return FineTuneLine(backbone: kind.rawValue, batch: batch, blocks: blocks, msPerStep: median(total),
                            bestMsPerStep: total.min() ?? 0, prefixMsPerStep: median(prefixTimes),
                            isa: CPUKernels.isaName, kernels: log.summary, referenceFallbacks: log.fallbacks)
    }

    public static func json(_ line: FineTuneLine) throws -> String {
        String(decoding: try JSONEncoder().encode(line), as: UTF8.self)
    }
}
