import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision

/// `discern bench`: numbers printed for tools/bench/ to set beside onnxruntime and PIL.
public enum BenchRunner {
    public struct Line: Codable, Sendable {
        public var what: String
        public var batch: Int
        public var value: Double
        public var unit: String
        public var line: String { String(format: "%@ batch %d: %.2f %@", what, batch, value, unit) }
    }

    public static func backbone(_ kind: BackboneKind, batch: Int, iterations: Int, precision: Precision) throws -> Line {
        let ms = try Benchmark.backbone(kind: kind, batch: batch, iterations: iterations, precision: precision)
        return Line(what: "\(kind.rawValue) \(precision.rawValue) forward", batch: batch, value: ms, unit: "ms/img")
    }

    public static func vision(pathsFile: String, mode: String, fast: Bool) throws -> [String] {
        let modes: [VisionBenchmark.Mode]
        if let m = VisionBenchmark.Mode(rawValue: mode) { modes = [m] }
        else if mode == "both" { modes = VisionBenchmark.Mode.allCases }
        else { throw KitError.invalid("--mode \(mode): use eval, train or both") }
        return try VisionBenchmark.runCommand(pathsFile: pathsFile, modes: modes, fastDecode: fast).map(\.json)
    }

    public static func json(_ lines: [Line]) throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(lines), as: UTF8.self)
    }
}
