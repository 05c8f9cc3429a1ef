import DiscernEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Timing of the backbone forward pass for `discern bench` (random weights: speed does not
/// depend on the values).
public enum Benchmark {
    public struct Result: Sendable {
        public let kind: BackboneKind
        public let batch: Int
        public let precision: Precision      // effective (bf16 may fall back)
        public let msPerImage: Double         // median over iterations
        public let bestMsPerImage: Double
        /// Process CPU time per image (all threads), over all timed runs together: one short run's CPU clock
        /// can miss the other threads' time (Linux adds a running thread's time at scheduler ticks), so it is
        /// never taken per run. Compare like with like (same thread count) only.
        public let cpuMsPerImage: Double
        public let notice: String?
    }

    /// Milliseconds per image of `InferenceSession.run` on a random batch (median of `iterations`
    /// timed runs after one warm-up that builds the primitives).
    public static func backbone(kind: BackboneKind, batch: Int, iterations: Int, precision: Precision = .fp32) throws
        -> Double
    {
        try run(kind: kind, batch: batch, iterations: iterations, options: InferenceOptions(precision: precision))
            .msPerImage
    }

    public static func run(kind: BackboneKind, batch: Int, iterations: Int, options: InferenceOptions) throws -> Result
    {
        guard batch >= 1, iterations >= 1 else {
            throw EngineError.invalid("bench: batch and iterations must be at least 1 (got \(batch), \(iterations))")
        }
        let backbone = try Backbone.build(kind, weights: nil, seed: 1)
        let session = try InferenceSession(graph: backbone.graph, batchSize: batch, options: options)
        let size = backbone.inputSize
        var random = SplitMix64.backbone(seed: 9)
        let input = Tensor(shape: [batch, 3, size, size],
                           data: (0..<(batch * 3 * size * size)).map { _ in random.nextUnitFloat() * 4 - 2 })
        _ = try session.run(input)
        var times: [Double] = []
        let cpuStart = cpuMilliseconds()
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try session.run(input)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(batch))
        }
        let cpu = (cpuMilliseconds() - cpuStart) / Double(iterations * batch)
        times.sort()
        return Result(kind: kind, batch: batch, precision: session.precision, msPerImage: times[times.count / 2],
                      bestMsPerImage: times[0], cpuMsPerImage: cpu, notice: session.notice)
    }

    static func cpuMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1e6
    }
}
