import Foundation

/// Whether bf16 actually runs faster than fp32 on this CPU, timed once per process when bf16 is asked for.
/// Having AVX512-BF16 is not enough: on AMD Zen 4 oneDNN's bf16 kernels take about half fp32's time, but on Intel
/// Xeons without AMX (an Emerald Rapids VM that hides AMX) ResNet50 in bf16 took 1.9x fp32's time. Only a
/// measurement here can tell.
public enum BF16Speed {
    /// Best-of-several time of one small block (1x1 and 3x3 convolutions, 256 channels, 28x28) in each precision.
    public struct Measurement: Sendable {
        public let fp32Milliseconds: Double
        public let bf16Milliseconds: Double
        /// bf16 time over fp32 time.
        public var ratio: Double { bf16Milliseconds / fp32Milliseconds }
        /// bf16 counts as faster only with a clear margin: timings on a shared VM move by 10-15%.
        public var bf16IsFaster: Bool { ratio < 0.9 }
    }

    /// The measurement, made on first use (about 30 ms; Swift runs a static's initialiser once, thread-safely);
    /// nil where the CPU has no native bf16.
    public static let measurement: Measurement? = measure()

    /// What a bf16 session says when bf16 is no faster here, else nil.
    static var slowNotice: String? {
        guard let measured = measurement, !measured.bf16IsFaster else { return nil }
        return String(format: "bf16 is not faster than fp32 on this CPU (%@; a 256-channel block took %.2f ms in "
                      + "bf16 against %.2f ms in fp32): --precision fp32 is the faster choice here",
                      CPUKernels.isaName, measured.bf16Milliseconds, measured.fp32Milliseconds)
    }

    static func measure() -> Measurement? {
        guard CPUKernels.bf16Native else { return nil }
        return KernelLog.unrecorded { timeBlock() }
    }

    /// Primitives are made on the calling thread (batch 1 runs there), so `KernelLog.unrecorded` covers them.
    private static func timeBlock() -> Measurement? {
        let channels = 256, side = 28
        var random = SplitMix64(seed: 1)
        func weights(_ kernel: Int) -> Tensor {
            let count = channels * channels * kernel * kernel
            return Tensor(shape: [channels, channels, kernel, kernel],
                          data: (0..<count).map { _ in (random.nextUnitFloat() - 0.5) * 0.1 })
        }
        var graph = Graph()
        let input = graph.input()
        let pointwise = graph.add(.conv2d(Conv2dParams(weight: weights(1))), [input])
        let activated = graph.add(.relu, [pointwise])
        graph.output = graph.add(.conv2d(Conv2dParams(weight: weights(3), padding: 1)), [activated])
        let x = Tensor(shape: [1, channels, side, side],
                       data: (0..<(channels * side * side)).map { _ in random.nextUnitFloat() })
        do {
            let sessions = try [Precision.fp32, .bf16].map {
                try InferenceSession(graph: graph, batchSize: 1, options: InferenceOptions(precision: $0),
                                     checkingBF16Speed: false)
            }
            var best = [Double.infinity, .infinity]
            // Alternating rounds, so that noise from the rest of the machine hits both alike; the first round warms up.
            for round in 0..<8 {
                for (index, session) in sessions.enumerated() {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try session.run(x)
                    let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    if round > 0 { best[index] = min(best[index], milliseconds) }
                }
            }
            return Measurement(fp32Milliseconds: best[0], bf16Milliseconds: best[1])
        } catch {
            return nil
        }
    }
}
