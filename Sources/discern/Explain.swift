import ArgumentParser
import DiscernExplain
import DiscernKit
import Foundation

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: """
        Explain predictions: CAM overlays (PNG), maps (.npy), guided backprop and guided Grad-CAM, attention areas.
        """)
    @OptionGroup var model: ModelOption
    @Argument(help: "Image files.")
    var images: [String]
    @Option(help: "CAM method: \(CAMMethod.choices) (default: gradcam).", transform: CAMMethod.parse)
    var method: CAMMethod = .gradcam
    @Option(help: "Target layer (module path, e.g. layer4.2 or _conv_head; default: the last block of the last stage).")
    var layer: String?
    @Option(name: .customLong("class"), help: "Class to explain, by name or index (default: the predicted one).")
    var className: String?
    @Option(help: "Output folder.")
    var out: String
    @Option(help: """
        Score-CAM only: masked forwards for the N most varying channels (Faster Score-CAM); 0 = every channel.
        """)
    var scoreCamChannels = 0

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        if scoreCamChannels < 0 { throw ValidationError("--score-cam-channels must be 0 or more") }
    }

    func run() throws {
        let service = try model.load()
        var failed = false
        for path in images {
            do {
                let explanation = try service.explainFile(
                    path, method: method, layer: layer, className: className, out: out,
                    scoreCAMChannels: scoreCamChannels > 0 ? scoreCamChannels : nil)
                print(String(format: "%@: %@ explained '%@' at %@, attention area %.3f", path,
                             explanation.method.rawValue, explanation.className, explanation.layer,
                             explanation.attentionArea))
            } catch {
                Output.warn("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
