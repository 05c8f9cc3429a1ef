import Foundation
import DiscernEngine
import DiscernVision
import DiscernExplain

extension DiscernModelService {
    /// One image's CAM at the photo's resolution, its overlay, and (for gradient methods) guided backprop.
    func explainImage(_ img: RGBImage, name: String, method: String, layer: String?, className: String?,
                      scoreCAMChannels: Int? = nil) throws -> (Explanation, CAMMaps, Tensor?) {
        guard let m = CAMMethod(name: method) else {
            throw ServiceError.badRequest("unknown method '\(method)' (use \(CAMMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let classes = model.metadata.classes
        let explainer: CAMExplainer
        do {
            explainer = try CAMExplainer(backbone: backbone, head: LinearParams(weight: model.head.weight, bias: model.head.bias), layer: layer, method: m)
        } catch let e as EngineError { throw ServiceError.badRequest("\(e)") }
        // Score-CAM's masked forwards share the service's fused session (no second weight copy per request).
        explainer.scoringForward = { [session] in try session.run($0) }
        explainer.scoreCAMBatchSize = session.batchSize
        explainer.scoreCAMChannels = scoreCAMChannels
        var target = CAMTarget.predicted
        if let c = className {
            do { target = try CAMTarget.named(c, classes: classes) } catch { throw ServiceError.badRequest("\(error)") }
        }
        let x = tensor(img)
        let (result, guided) = m.needsGradients
            ? try { let r = try explainer.explainWithGuided(x, target: target); return (r.result, Optional(r.guided)) }()
            : (try explainer.explain(x, target: target), nil)
        let s = model.metadata.imageSize
        let camIn = result.maps.input.reshaped([s, s])
        let big = CAMImage.minMax(CAMImage.resize(camIn, height: img.height, width: img.width))
        let overlay = try Overlay.camOnImage(image: img.pixels, mask: big)
        let png = try ImageCodec.encodePNG(RGBImage(width: img.width, height: img.height, pixels: overlay))
        let area = try AttentionArea.fractions(result.maps.input, threshold: 0.5)[0]
        let k = result.classes[0]
        return (Explanation(name: name, className: classes[k], classIndex: k, method: m.rawValue, layer: explainer.layer,
                            attentionArea: area, width: img.width, height: img.height, heatmap: big.data, overlayPNG: png),
                result.maps, guided)
    }

    public func explain(_ image: ImageInput, method: String, layer: String?, className: String?) async throws -> Explanation {
        try explainImage(try decode(image), name: image.name, method: method, layer: layer, className: className).0
    }

    /// `discern explain`: writes <name>.cam.png, .cam.npy, .cam-feature.npy, .guided.png, .guided-cam.png into `out`.
    /// scoreCAMChannels: Score-CAM's masked forwards (the most varying channels); nil = every channel.
    public func explainFile(_ path: String, method: String, layer: String?, className: String?, out: String,
                            scoreCAMChannels: Int? = nil) throws -> Explanation {
        let img = try ImageCodec.decodeFile(path, maxPixels: maxPixels)
        let (e, maps, guided) = try explainImage(img, name: path, method: method, layer: layer, className: className,
                                                 scoreCAMChannels: scoreCAMChannels)
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        _ = try ExplanationWriter.write(name: name, to: URL(fileURLWithPath: out), original: img,
                                        camInput: maps.input, camFeature: maps.feature, guided: guided)
        return e
    }
}
