import ArgumentParser
import DiscernEngine
import DiscernExplain
import DiscernKit
import DiscernModels
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: """
        Time the backbone forward pass (random weights) or the image pipeline; tools/bench/ runs onnxruntime/PIL \
        beside it.
        """)
    @Option(help: "Backbone: \(BackboneKind.choices) (default: efficientnet-lite0).", transform: BackboneKind.parse)
    var backbone: BackboneKind = .efficientnetLite0
    @Option(help: "Batch size.")
    var batch = 32
    @Option(help: "Timed iterations (after one warm-up).")
    var iterations = 10
    @Option(help: "Precision: \(Precision.choices) (default: fp32).", transform: Precision.parse)
    var precision: Precision = .fp32
    @Option(help: "Activation layout: blocked (this CPU's jit block, the default) or any (oneDNN's choice).",
            transform: ActivationLayout.parse)
    var layout: ActivationLayout = .blocked
    @Option(help: "3x3 convolutions: winograd (the default; oneDNN's on AVX-512, Discern's own below it) or direct.",
            transform: ConvolutionAlgorithm.parse)
    var convolution: ConvolutionAlgorithm = .winograd
    @Option(help: "Inference streams for batches (one single-threaded worker each); default: one per core.")
    var streams: Int?
    @Flag(help: "Time image decoding + transforms instead (with --paths).")
    var vision = false
    @Option(help: "With --vision: a file listing image paths, one per line.")
    var paths: String?
    @Option(help: """
        With --vision: eval (decode + Resize + Normalize), train (the study's augmentation) or both (default: both).
        """, transform: VisionBenchMode.parse)
    var mode: VisionBenchMode = .both
    @Flag(help: "With --vision: libjpeg-turbo scaled decoding of large JPEGs.")
    var fast = false
    @Flag(help: "JSON output.")
    var json = false
    @Option(help: "Time a CAM method against forward passes instead: \(CAMMethod.choices).",
            transform: CAMMethod.parse)
    var cam: CAMMethod?
    @Option(help: "With --cam scorecam: masked forwards for the N most varying channels; 0 = every channel.")
    var scoreCamChannels = 0
    @Option(help: "Time fine-tuning steps of the last N blocks instead (random weights; bench_finetune.py).")
    var fineTune: Int?

    func validate() throws {
        if vision && paths == nil { throw ValidationError("--vision needs --paths FILE") }
        guard batch >= 1, iterations >= 1 else { throw ValidationError("--batch and --iterations must be at least 1") }
        guard scoreCamChannels >= 0 else { throw ValidationError("--score-cam-channels must be 0 or more") }
    }

    func run() throws {
        if vision, let list = paths {
            // One JSON line per mode: the format tools/bench/bench_vision.py reads.
            for line in try BenchRunner.vision(pathsFile: list, modes: mode.modes, fast: fast) { print(line) }
            return
        }
        if let blocks = fineTune {
            let line = try BenchRunner.fineTune(backbone, blocks: blocks, batch: batch, iterations: iterations)
            print(try json ? BenchRunner.json(line) : line.line)
            return
        }
        if let method = cam {
            print(try BenchRunner.cam(backbone, method: method, repeats: max(3, iterations),
                                      scoreCAMChannels: scoreCamChannels > 0 ? scoreCamChannels : nil))
            return
        }
        let options = InferenceOptions(precision: precision, layout: layout, convolution: convolution, streams: streams)
        let line = try BenchRunner.backbone(backbone, batch: batch, iterations: iterations, options: options)
        print(try json ? BenchRunner.json(line) : line.line)
    }
}
