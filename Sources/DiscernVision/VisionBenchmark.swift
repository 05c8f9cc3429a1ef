import Foundation

/// Timing entry point for `discern bench --vision` (compared with PIL + torchvision by tools/bench/bench_vision.py):
/// the batch loader over a fixed list of images, either evaluation preprocessing (decode + Resize(224,224) +
/// ToTensor + Normalize) or the study's training augmentation.
public enum VisionBenchmark {
    public enum Mode: String, CaseIterable, Sendable { case eval, train }

    public struct Result: Sendable, CustomStringConvertible {
        public let mode: Mode
        public let images: Int
        public let seconds: Double
        public let skipped: Int
        public var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
        /// One JSON line, the format bench_vision.py reads.
        public var json: String {
            String(
                format:
                    "{\"mode\": \"%@\", \"images\": %d, \"seconds\": %.4f, \"images_per_second\": %.2f, \"skipped\":"
                        + " %d}",
                mode.rawValue, images, seconds, imagesPerSecond, skipped)
        }
        public var description: String {
            String(
                format: "%@: %d images in %.2f s = %.1f images/s (%d skipped)", mode.rawValue, images, seconds,
                imagesPerSecond, skipped)
        }
    }

    public static func run(paths: [String], mode: Mode, batchSize: Int = 32, size: Int = 224,
                           fastDecode: Bool = false, seed: UInt64 = 0) throws -> Result {
        let samples = paths.map { ImageFolder.Sample(path: $0, label: 0) }
        let transform: any ImageTransform =
            mode == .eval ? Compose.evaluation(size: size) : Compose.training(size: size)
        let loader = try BatchLoader(
            samples: samples, transform: transform,
            options: .init(
                batchSize: batchSize, seed: seed, shuffle: false, prefetch: 2,
                fastDecode: fastDecode, fastDecodeSize: size))
        let start = Date()
        var images = 0
        var checksum: Float = 0
        for batch in loader.epoch(0) {
            images += batch.labels.count
            checksum += batch.images.data.first ?? 0   // touch the data, as a consumer would
        }
        let seconds = Date().timeIntervalSince(start)
        if let failure = loader.failure { throw VisionError.invalidArgument("benchmark failed: \(failure)") }
        _ = checksum
        return Result(mode: mode, images: images, seconds: seconds, skipped: loader.skipped.count)
    }

    public static func imagesPerSecond(paths: [String], mode: Mode) throws -> Double {
        try run(paths: paths, mode: mode).imagesPerSecond
    }

    /// What `discern bench --vision --paths FILE [--mode eval|train] [--fast]` runs: each mode over the listed
    /// images; print each result's `json` line for bench_vision.py.
    public static func runCommand(pathsFile: String, modes: [Mode] = Mode.allCases, fastDecode: Bool = false) throws
        -> [Result]
    {
        let paths = try readPathList(pathsFile)
        guard !paths.isEmpty else { throw VisionError.invalidArgument("\(pathsFile): no image paths listed") }
        return try modes.map { try run(paths: paths, mode: $0, fastDecode: fastDecode) }
    }

    /// Reads a list of image paths, one per line (blank lines ignored).
    public static func readPathList(_ file: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw VisionError.unreadable(file, reason: "cannot read the path list")
        }
        return text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }
}
