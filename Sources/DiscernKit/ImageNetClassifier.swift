import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining

/// `discern classify`: the pretrained backbone with its own ImageNet head.
public enum ImageNetClassifier {
    public struct Ranked: Codable, Sendable {
        public var index: Int
        public var name: String
        public var probability: Double
    }

    public struct Result: Codable, Sendable {
        public var path: String
        public var top: [Ranked]
    }


    public static func classify(_ paths: [String], backbone kind: BackboneKind, weights: String?,
                                search: WeightsSearch, top: Int, inputSize: Int? = nil)
        throws -> ([Result], [String])
    {
        let (backbone, _, file) = try BackboneWeights.load(kind, path: weights, search: search, inputSize: inputSize)
        guard let head = backbone.imagenetHead else {
            throw KitError.badModel(file, "has no ImageNet classifier (fc / _fc) to classify with")
        }
        let session = try InferenceSession(graph: backbone.graph, batchSize: 1)
        let input = ModelInput(backbone: backbone)
        var results: [Result] = []
        var failures: [String] = []
        for path in paths {
            do {
                let image = try ImageCodec.decodeFile(path)
                let probabilities = Softmax.probabilities(try head.logits(try session.run(input.tensor(image)))).data
                let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
                results.append(Result(path: path, top: order.map { index in
                    let name = index < ImageNetClasses.names.count ? ImageNetClasses.names[index] : "class \(index)"
                    return Ranked(index: index, name: name, probability: Double(probabilities[index]))
                }))
            } catch let error as VisionError {
                failures.append("\(error)")
            }
        }
        return (results, failures)
    }
}
