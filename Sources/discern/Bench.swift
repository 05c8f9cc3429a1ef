import ArgumentParser
import Foundation
import DiscernKit
import DiscernModels
import DiscernEngine

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the backbone forward pass (random weights) or the image pipeline; tools/bench/ runs onnxruntime/PIL beside it.")
    @Option(help: "Backbone: \(BackboneKind.allValueStrings.joined(separator: ", ")).")
    var backbone: BackboneKind = .efficientnetLite0
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Timed iterations (after one warm-up).") var iterations = 10
    @Option(help: "fp32 or bf16.") var precision: Precision = .fp32
    @Option(help: "Activation layout: blocked (this CPU's jit block, the default) or any (oneDNN's choice).")
    var layout: ActivationLayout = .blocked
    @Option(help: "3x3 convolutions: winograd (where this CPU has it, the default) or direct.")
    var convolution: ConvolutionAlgorithm = .winograd
    @Option(help: "Inference streams for batches (one single-threaded worker each); default: one per core.")
    var streams: Int?
    @Flag(help: "Time image decoding + transforms instead (with --paths).") var vision = false
    @Option(help: "With --vision: a file listing image paths, one per line.") var paths: String?
    @Option(help: "With --vision: eval (decode + Resize + Normalize), train (the study's augmentation) or both.") var mode = "both"
    @Flag(help: "With --vision: libjpeg-turbo scaled decoding of large JPEGs.") var fast = false
    @Flag(help: "JSON output.") var json = false
    @Option(help: "Time a CAM method (e.g. gradcam, scorecam) on one image against forward passes instead.") var cam: String?
    @Option(help: "With --cam scorecam: masked forwards for the N most varying channels; 0 = every channel.")
    var scoreCamChannels = 0
    @Option(help: "Time fine-tuning steps of the last N blocks instead (random weights; bench_finetune.py).")
    var fineTune: Int?

    func run() throws {
        if vision {
            guard let list = paths else { throw ValidationError("--vision needs --paths FILE") }
            // One JSON line per mode: the format tools/bench/bench_vision.py reads.
            for line in try BenchRunner.vision(pathsFile: list, mode: mode, fast: fast) { print(line) }
            return
        }
        if let blocks = fineTune {
            let r = try BenchRunner.fineTune(backbone, blocks: blocks, batch: batch, iterations: iterations)
            if json { print(try BenchRunner.json(r)) } else { print(r.line) }
            return
        }
        if let method = cam {
            print(try BenchRunner.cam(backbone, method: method, repeats: max(3, iterations),
                                      scoreCAMChannels: scoreCamChannels > 0 ? scoreCamChannels : nil))
            return
        }
        let options = InferenceOptions(precision: precision, layout: layout, convolution: convolution, streams: streams)
        let r = try BenchRunner.backbone(backbone, batch: batch, iterations: iterations, options: options)
        if json { print(try BenchRunner.json(r)) } else { print(r.line) }
    }
}
