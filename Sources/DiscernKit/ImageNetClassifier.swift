import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining

/// `discern classify`: the pretrained backbone with its own ImageNet head.
public enum ImageNetClassifier {
    public struct Ranked: Codable, Sendable { public var index: Int; public var name: String; public var probability: Double }
    public struct Result: Codable, Sendable { public var path: String; public var top: [Ranked] }

    public static func classify(_ paths: [String], backbone kind: BackboneKind, weights: String?, top: Int) throws -> ([Result], [String]) {
        let (backbone, _, file) = try BackboneWeights.load(kind, path: weights)
        guard let fc = backbone.imagenetHead else { throw KitError.badModel(file, "has no ImageNet classifier (fc / _fc) to classify with") }
        let head = try LinearHead(weight: fc.weight, bias: fc.bias ?? Tensor(zeros: [fc.outFeatures]))
        let session = try InferenceSession(graph: backbone.graph, batchSize: 1)
        var results: [Result] = [], failures: [String] = []
        let s = backbone.inputSize
        for p in paths {
            do {
                let img = try ImageCodec.decodeFile(p)
                let x = toTensor(Resize(height: s, width: s).apply(img), mean: backbone.normalization.mean, std: backbone.normalization.std)
                let probs = Softmax.probabilities(try head.logits(try session.run(x.reshaped([1, 3, s, s]))))
                let order = probs.data.indices.sorted { probs.data[$0] > probs.data[$1] }.prefix(top)
                results.append(Result(path: p, top: order.map {
                    Ranked(index: $0, name: $0 < ImageNetClasses.names.count ? ImageNetClasses.names[$0] : "class \($0)",
                           probability: Double(probs.data[$0]))
                }))
            } catch let e as VisionError { failures.append("\(e)") }
        }
        return (results, failures)
    }
}
