import ArgumentParser
import Foundation
import DiscernKit
import DiscernModels
import DiscernEngine

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the backbone forward pass (random weights) or the image pipeline; tools/bench/ runs onnxruntime/PIL beside it.")
    @Option(help: "Backbone.") var backbone: BackboneKind = .efficientnetLite0
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Timed iterations (after one warm-up).") var iterations = 10
    @Option(help: "fp32 or bf16.") var precision: Precision = .fp32
    @Option(help: "Time decoding + transforms on the image paths listed in this file instead.") var vision: String?
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        if let list = vision {
            let results = try BenchRunner.vision(pathsFile: list)
            if json { print(try BenchRunner.json(results)) } else { results.forEach { print($0.line) } }
            return
        }
        let r = try BenchRunner.backbone(backbone, batch: batch, iterations: iterations, precision: precision)
        if json { print(try BenchRunner.json([r])) } else { print(r.line) }
    }
}
