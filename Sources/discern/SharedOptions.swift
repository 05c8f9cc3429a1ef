import ArgumentParser
import DiscernKit
import DiscernModels
import Foundation

/// `--backbone` and `--weights`: which ImageNet network, from which file (run, train, features, classify).
struct BackboneOptions: ParsableArguments {
    @Option(name: .customLong("backbone"), help: """
        Backbone: \(BackboneKind.choices) (default: efficientnet-lite0; with --fine-tune efficientnet-lite1).
        """, transform: BackboneKind.parse)
    var chosenBackbone: BackboneKind?
    @Option(help: "ImageNet weights (.pth or .safetensors, torchvision/timm names); default: ~/.cache/discern/weights.")
    var weights: String?
    @Option(name: .customLong("image-size"), help: """
        Side in pixels every image is resized to, in training and in the model file (default: the backbone's \
        own, e.g. 224 for Lite0, 240 for Lite1).
        """)
    var imageSize: Int?

    func validate() throws {
        if let imageSize, !(32 ... 1024).contains(imageSize) {
            throw ValidationError("--image-size must be between 32 and 1024 pixels, not \(imageSize)")
        }
    }

    /// The network when --backbone is not given: the larger Lite1 when fine-tuning asks for accuracy and minutes.
    func backbone(fineTune: Bool = false) -> BackboneKind {
        chosenBackbone ?? (fineTune ? .efficientnetLite1 : .efficientnetLite0)
    }
}

/// `--model`: a model file written by `discern train` or `discern run` (evaluate, explain, predict, serve).
struct ModelOption: ParsableArguments {
    @Option(name: .customLong("model"), help: "Model file written by `discern train` or `discern run`.")
    var path: String

    func load(batchSize: Int = 32) throws -> DiscernModelService {
        try DiscernModelService.load(path: path, batchSize: batchSize)
    }
}

/// What every subcommand writes besides its result.
enum Output {
    /// One line on standard error, after the program's name.
    static func warn(_ line: String) { FileHandle.standardError.write(Data("discern: \(line)\n".utf8)) }

    /// `value` as indented JSON with sorted keys on standard output.
    static func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
