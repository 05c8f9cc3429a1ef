import Foundation

/// Whether bf16 actually runs faster than fp32 on this CPU, timed once per process when bf16 is asked for.
/// Having AVX512-BF16 is not enough: on AMD Zen 4 and Zen 5 oneDNN's bf16 kernels take about half fp32's time, but
/// on Intel Xeons without AMX (an Emerald Rapids VM that hides AMX) ResNet50 in bf16 took 1.9x fp32's time. Only a
/// measurement here can tell.
///
/// What is timed is the two kinds of block Discern's backbones are made of, with their own mix of arithmetic: a
/// ResNet bottleneck (1x1, 3x3, 1x1) and an EfficientNet-Lite inverted residual (1x1, depthwise 3x3, 1x1). A block
/// of mostly dense 3x3 convolution would misjudge: fp32 runs those as Winograd on AVX-512 (2.25x fewer
/// multiplications) where bf16 has no Winograd, so such a block called bf16 "not faster" on a Zen 5 CPU on which
/// whole ResNet50 and Lite0 networks took 0.52-0.60x of fp32's time in bf16.
public enum BF16Speed {
    /// Best-of-several time of the two blocks together, in each precision.
    public struct Measurement: Sendable {
        public let fp32Milliseconds: Double
        public let bf16Milliseconds: Double
        /// bf16 time over fp32 time.
        public var ratio: Double { bf16Milliseconds / fp32Milliseconds }
        /// bf16 counts as faster only with a clear margin: timings on a shared VM move by 10-15%.
        public var bf16IsFaster: Bool { ratio < 0.9 }
    }

    /// The measurement, made on first use (tens of milliseconds; Swift runs a static's initialiser once,
    /// thread-safely); nil where the CPU has no native bf16.
    public static let measurement: Measurement? = measure()

    /// What a bf16 session says when bf16 is no faster here, else nil.
    static var slowNotice: String? {
        guard let measured = measurement, !measured.bf16IsFaster else { return nil }
        return String(format: "bf16 is not faster than fp32 on this CPU (%@; a ResNet bottleneck and a Lite block "
                      + "took %.2f ms in bf16 against %.2f ms in fp32): --precision fp32 is the faster choice here",
                      CPUKernels.isaName, measured.bf16Milliseconds, measured.fp32Milliseconds)
    }

    static func measure() -> Measurement? {
        guard CPUKernels.bf16Native else { return nil }
        return KernelLog.unrecorded { timeBlock() }
    }

    /// Primitives are made on the calling thread (batch 1 runs there), so `KernelLog.unrecorded` covers them.
    private static func timeBlock() -> Measurement? {
        var random = SplitMix64(seed: 1)
        func weights(_ out: Int, _ perGroup: Int, _ kernel: Int) -> Tensor {
            let count = out * perGroup * kernel * kernel
            return Tensor(shape: [out, perGroup, kernel, kernel],
                          data: (0..<count).map { _ in (random.nextUnitFloat() - 0.5) * 0.1 })
        }
        func conv(_ graph: inout Graph, _ input: Int, _ out: Int, _ perGroup: Int, _ kernel: Int,
                  groups: Int = 1, activation: Op? = .relu) -> Int {
            let params = Conv2dParams(weight: weights(out, perGroup, kernel), padding: kernel / 2, groups: groups)
            let convolved = graph.add(.conv2d(params), [input])
            return activation.map { graph.add($0, [convolved]) } ?? convolved
        }
        // ResNet50's layer2 bottleneck at 28x28, then Lite0's 80-channel inverted residual at 14x14 (its input
        // made by a 1x1 stride-2 convolution, as a ResNet's downsampling, so that both blocks are one network).
        var graph = Graph()
        let input = graph.input()
        let reduced = conv(&graph, input, 128, 512, 1)
        let spatial = conv(&graph, reduced, 128, 128, 3)
        let bottleneck = conv(&graph, spatial, 512, 128, 1, activation: nil)
        let narrowed = graph.add(.conv2d(Conv2dParams(weight: weights(80, 512, 1), stride: 2)), [bottleneck])
        let expanded = conv(&graph, narrowed, 480, 80, 1, activation: .relu6)
        let depthwise = conv(&graph, expanded, 480, 1, 3, groups: 480, activation: .relu6)
        graph.output = conv(&graph, depthwise, 80, 480, 1, activation: nil)
        let (channels, side) = (512, 28)
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
