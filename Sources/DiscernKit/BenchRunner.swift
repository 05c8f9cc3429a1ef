import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernExplain
import DiscernRobustness

/// `discern bench`: numbers printed for tools/bench/ to set beside onnxruntime and PIL.
public enum BenchRunner {
    /// One backbone timing; the JSON keys are what tools/bench/bench_speed.py reads.
    public struct Line: Codable, Sendable {
        public var backbone: String
        public var precision: String
        public var batch: Int
        public var msPerImage: Double
        public var bestMsPerImage: Double
        public var cpuMsPerImage: Double
        public var notice: String?
        /// bf16 rows on a CPU with native bf16: `BF16Speed`'s two-block time in bf16 over fp32, which decides the
        /// notice; bench_speed.py sets it beside the whole networks' own bf16/fp32 ratios.
        public var bf16ProbeRatio: Double?
        /// oneDNN's effective ISA and the implementations its primitives resolved to.
        public var isa: String
        public var kernels: [String]
        public var referenceFallbacks: Int
        /// The vector code Discern's own C kernels run (CCPUFeatures): "avx2+fma" or "baseline".
        public var cKernels = ["pixels": BenchRunner.vectorCode(PixelKernels.level),
                               "dot_products": BenchRunner.vectorCode(DotKernels.level)]
        enum CodingKeys: String, CodingKey {
            case backbone, precision, batch, notice, isa, kernels
            case referenceFallbacks = "reference_fallbacks"
            case bf16ProbeRatio = "bf16_probe_ratio"
            case cKernels = "c_kernels"
            case msPerImage = "ms_per_image"
            case bestMsPerImage = "best_ms_per_image"
            case cpuMsPerImage = "cpu_ms_per_image"
        }
        public var line: String {
            String(format: "%@ %@ batch %d: %.2f ms/img (median), best %.2f, CPU %.2f (all threads, mean)",
                   backbone, precision, batch, msPerImage, bestMsPerImage, cpuMsPerImage) + (notice.map { " (\($0))" } ?? "")
                + "\noneDNN ISA: \(isa)" + kernels.map { "\n  \($0)" }.joined()
                + "\nDiscern's C kernels: pixels \(cKernels["pixels"] ?? "?"), dot products \(cKernels["dot_products"] ?? "?")"
                + (referenceFallbacks > 0
                    ? "\n  \(referenceFallbacks) primitive(s) on reference code: see the warnings above"
                    : "")
        }
    }

    /// The name of a CCPUFeatures level, as `bench` prints it.
    static func vectorCode(_ level: Int) -> String { level >= 1 ? "avx2+fma" : "baseline" }

    public static func backbone(_ kind: BackboneKind, batch: Int, iterations: Int,
                                options: InferenceOptions) throws -> Line {
        let result = try Benchmark.run(kind: kind, batch: batch, iterations: iterations, options: options)
        let log = KernelLog.shared
        return Line(backbone: kind.rawValue, precision: result.precision.rawValue, batch: batch,
                    msPerImage: result.msPerImage, bestMsPerImage: result.bestMsPerImage,
                    cpuMsPerImage: result.cpuMsPerImage, notice: result.notice,
                    bf16ProbeRatio: result.precision == .bf16 ? BF16Speed.measurement?.ratio : nil,
                    isa: CPUKernels.isaName, kernels: log.summary, referenceFallbacks: log.fallbacks)
    }

    public static func vision(pathsFile: String, modes: [VisionBenchmark.Mode], fast: Bool) throws -> [String] {
        try VisionBenchmark.runCommand(pathsFile: pathsFile, modes: modes, fastDecode: fast).map(\.json)
    }

    /// A CAM method's cost (random weights, one 224×224 image, median of `repeats`) against a forward of
    /// the autograd executor and against the fused inference session used for features. Score-CAM's
    /// masked forwards run on a fused session in batches, as in `explain` and `run`.
    public static func cam(_ kind: BackboneKind, method: CAMMethod, repeats: Int,
                           scoreCAMChannels: Int? = nil) throws -> String {
        let backbone = try Backbone.build(kind, weights: nil)
        var random = SystemRandomNumberGenerator()
        let size = backbone.inputSize
        let input = Tensor(shape: [1, 3, size, size],
                           data: (0..<(3 * size * size)).map { _ in Float.random(in: -1...1, using: &random) })
        let head = try LinearParams(weight: Tensor(repeating: 0.01, shape: [2, backbone.featureCount]),
                                    bias: Tensor(zeros: [2]))
        let explainer = try CAMExplainer(backbone: backbone, head: head, method: method)
        explainer.scoreCAMChannels = scoreCAMChannels
        let timing = try CAMBenchmark.measure(explainer, input: input, repeats: repeats)
        let session = try InferenceSession(graph: backbone.graph, batchSize: 1)
        _ = try session.run(input)
        var forwards = [Double]()
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try session.run(input)
            forwards.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let forward = forwards.sorted()[forwards.count / 2]
        return String(format: "%@ %@ at %@: %.1f ms/image; %@; fused forward %.1f ms -> %.2f× a fused forward; isa %@",
                      kind.rawValue, method.rawValue, explainer.layer, timing.camSeconds * 1e3, timing.description,
                      forward * 1e3, timing.camSeconds / max(forward, 1e-12), CPUKernels.isaName)
    }

    public static func json(_ line: Line) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(line), as: UTF8.self)
    }
}
