import ArgumentParser
import Foundation
import DiscernKit

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label images with a trained model, with every OOD score and a verdict: accept, unknown or unsure, with the reason.")
    @Option(help: "Model file.") var model: String
    @Argument(help: "Image files (JPEG or PNG).") var images: [String]
    @Flag(help: "One JSON array instead of a table.") var json = false
    @Option(help: "Use the study's single-score rule with this score (default: the model's two questions).") var score: String?
    @Option(help: "Threshold for --score (default: that score's calibrated threshold stored in the model).") var threshold: Double?
    @Option(help: "Also write Grad-CAM explanations for each image into this folder.") var explain: String?

    func validate() throws { if images.isEmpty { throw ValidationError("give at least one image") } }

    func run() throws {
        let service = try DiscernModelService.load(path: model)
        // A bad image is reported on its own line; the others are still predicted.
        let (results, failures) = try service.predictFiles(images, score: score, threshold: threshold)
        for f in failures { FileHandle.standardError.write(Data("discern: \(f)\n".utf8)) }
        if let dir = explain {
            for r in results {
                let e = try service.explainFile(r.path, method: "gradcam", layer: nil, className: nil, out: dir)
                FileHandle.standardError.write(Data("discern: \(r.path): explained '\(e.className)', attention area \(String(format: "%.3f", e.attentionArea))\n".utf8))
            }
        }
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(results), as: UTF8.self))
        } else {
            print(PredictionTableText.render(results, classes: service.info.classes))
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
