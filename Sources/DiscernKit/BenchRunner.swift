import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision

/// `discern bench`: numbers printed for tools/bench/ to set beside onnxruntime and PIL.
public enum BenchRunner {
    /// One backbone timing; the JSON keys are what tools/bench/bench_onnx.py reads.
    public struct Line: Codable, Sendable {
        public var backbone: String
        public var precision: String
        public var batch: Int
        public var msPerImage: Double
        public var bestMsPerImage: Double
        public var bestCPUMsPerImage: Double
        public var notice: String?
        enum CodingKeys: String, CodingKey {
            case backbone, precision, batch, notice
            case msPerImage = "ms_per_image", bestMsPerImage = "best_ms_per_image", bestCPUMsPerImage = "best_cpu_ms_per_image"
        }
        public var line: String {
            String(format: "%@ %@ batch %d: %.2f ms/img (median), best %.2f, best CPU %.2f", backbone, precision, batch,
                   msPerImage, bestMsPerImage, bestCPUMsPerImage) + (notice.map { " (\($0))" } ?? "")
        }
    }

    public static func backbone(_ kind: BackboneKind, batch: Int, iterations: Int, precision: Precision) throws -> Line {
        let r = try Benchmark.run(kind: kind, batch: batch, iterations: iterations, precision: precision)
        return Line(backbone: kind.rawValue, precision: r.precision.rawValue, batch: batch, msPerImage: r.msPerImage,
                    bestMsPerImage: r.bestMsPerImage, bestCPUMsPerImage: r.bestCPUMsPerImage, notice: r.notice)
    }

    public static func vision(pathsFile: String, mode: String, fast: Bool) throws -> [String] {
        let modes: [VisionBenchmark.Mode]
        if let m = VisionBenchmark.Mode(rawValue: mode) { modes = [m] }
        else if mode == "both" { modes = VisionBenchmark.Mode.allCases }
        else { throw KitError.invalid("--mode \(mode): use eval, train or both") }
        return try VisionBenchmark.runCommand(pathsFile: pathsFile, modes: modes, fastDecode: fast).map(\.json)
    }

    public static func json(_ line: Line) throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(line), as: UTF8.self)
    }
}
