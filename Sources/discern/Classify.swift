import ArgumentParser
import Foundation
import DiscernKit
import DiscernModels

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "ImageNet top-k of images with a pretrained backbone.")
    @Argument(help: "Image files.")
    var images: [String]
    @OptionGroup var network: BackboneOptions
    @Option(help: "How many classes to show.")
    var top = 5
    @Flag(help: "JSON output.")
    var json = false

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let (results, failures) = try ImageNetClassifier.classify(
            images, backbone: network.backbone(), weights: network.weights, search: ProcessEnvironment.weightsSearch,
            top: top, inputSize: network.imageSize)
        for failure in failures { Output.warn(failure) }
        if json {
            try Output.printJSON(results)
        } else {
            for result in results {
                print(result.path)
                for ranked in result.top {
                    print(String(format: "  %6.2f%%  %4d  %@", 100 * ranked.probability, ranked.index, ranked.name))
                }
            }
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
