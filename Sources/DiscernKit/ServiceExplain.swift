import Foundation
import DiscernEngine
import DiscernVision
import DiscernExplain

extension DiscernModelService {
    /// One image's CAM at the photo's resolution, its overlay, and (for gradient methods) guided backprop.
    func explainImage(_ image: RGBImage, name: String, method: CAMMethod, layer: String?, className: String?,
                      scoreCAMChannels: Int? = nil) throws -> (Explanation, CAMMaps, Tensor?) {
        let classes = model.metadata.classes
        let explainer: CAMExplainer
        do {
            explainer = try CAMExplainer(backbone: backbone, head: model.head, layer: layer, method: method)
        } catch let error as EngineError {
            throw ServiceError.badRequest("\(error)")
        }
        // Score-CAM's masked forwards share the service's fused session (no second weight copy per request).
        explainer.scoringForward = { [session] in try session.run($0) }
        explainer.scoreCAMBatchSize = session.batchSize
        explainer.scoreCAMChannels = scoreCAMChannels
        var target = CAMTarget.predicted
        if let className {
            do {
                target = try CAMTarget.named(className, classes: classes)
            } catch {
                throw ServiceError.badRequest("\(error)")
            }
        }
        let input = tensor(image)
        let result: CAMExplainer.Result
        let guided: Tensor?
        if method.needsGradients {
            let both = try explainer.explainWithGuided(input, target: target)
            result = both.result
            guided = both.guided
        } else {
            result = try explainer.explain(input, target: target)
            guided = nil
        }
        let size = model.metadata.imageSize
        let map = result.maps.input.reshaped([size, size])
        let full = CAMImage.minMax(CAMImage.resize(map, height: image.height, width: image.width))
        let overlay = try Overlay.camOnImage(image: image.pixels, mask: full)
        let png = try ImageCodec.encodePNG(RGBImage(width: image.width, height: image.height, pixels: overlay))
        let area = try AttentionArea.fractions(result.maps.input, threshold: 0.5)[0]
        let classIndex = result.classes[0]
        let explanation = Explanation(name: name, className: classes[classIndex], classIndex: classIndex,
                                      method: method, layer: explainer.layer, attentionArea: area,
                                      width: image.width, height: image.height, heatmap: full.data, overlayPNG: png)
        return (explanation, result.maps, guided)
    }

    public func explain(_ image: ImageInput, method: CAMMethod, layer: String?, className: String?) async throws
        -> Explanation {
        try explainImage(try decode(image), name: image.name, method: method, layer: layer, className: className).0
    }

    /// `discern explain`: writes <name>.cam.png, .cam.npy, .cam-feature.npy, .guided.png, .guided-cam.png into `out`.
    /// scoreCAMChannels: Score-CAM's masked forwards (the most varying channels); nil = every channel.
    public func explainFile(_ path: String, method: CAMMethod, layer: String?, className: String?, out: String,
                            scoreCAMChannels: Int? = nil) throws -> Explanation {
        let image = try ImageCodec.decodeFile(path, maxPixels: maxPixels)
        let (explanation, maps, guided) = try explainImage(image, name: path, method: method, layer: layer,
                                                           className: className, scoreCAMChannels: scoreCAMChannels)
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        _ = try ExplanationWriter.write(name: name, to: URL(fileURLWithPath: out), original: image,
                                        camInput: maps.input, camFeature: maps.feature, guided: guided)
        return explanation
    }
}
