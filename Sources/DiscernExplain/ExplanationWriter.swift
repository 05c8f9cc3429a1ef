import Foundation
import DiscernEngine
import DiscernVision

/// Writes one image's explanation files: `<name>.cam.png` (jet overlay on the original photo),
/// `<name>.cam.npy` (the [0,1] map at the photo's resolution), `<name>.cam-feature.npy` (at the
/// target layer's resolution), `<name>.guided.png` and `<name>.guided-cam.png` (at the network's input size).
public enum ExplanationWriter {
    public struct Written: Sendable {
        public let files: [URL]
        /// The map at the original photo's resolution, [H0,W0] in [0,1].
        public let camAtOriginal: Tensor
        /// The bytes of `<name>.cam.png`, for a report that shows it without reading the file back.
        public let overlayPNG: [UInt8]
    }

    /// - original: the decoded photo; camInput/camFeature: one image's maps ([H,W] / [h,w] or with a leading 1);
    ///   guided: that image's guided-backprop input gradient [3,H,W] (or [1,3,H,W]), optional.
    public static func write(
        name: String, to dir: URL, original: RGBImage, camInput: Tensor, camFeature: Tensor,
        guided: Tensor?, imageWeight: Float = 0.5
    ) throws -> Written {
        guard original.width > 0, original.height > 0, original.pixels.count == original.width * original.height * 3
        else {
            throw ExplainError.invalid("\(name): the original image is empty or not RGB")
        }
        let H = camInput.shape[camInput.rank - 2], W = camInput.shape[camInput.rank - 1]
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        catch { throw ExplainError.write(path: dir.path, reason: error.localizedDescription) }
        var files = [URL]()
        func put(_ suffix: String, _ data: Data) throws {
            let url = dir.appendingPathComponent(name + suffix)
            do { try data.write(to: url, options: .atomic) } catch {
                throw ExplainError.write(path: url.path, reason: error.localizedDescription)
            }
            files.append(url)
        }
        let plane = camInput.reshaped([H, W])
        let big = CAMImage.minMax(CAMImage.resize(plane, height: original.height, width: original.width))
        try put(".cam.npy", NPY.encode(big))
        try put(".cam-feature.npy", NPY.encode(camFeature.reshaped(Array(camFeature.shape.suffix(2)))))
        let overlay = try Overlay.camOnImage(image: original.pixels, mask: big, imageWeight: imageWeight)
        let overlayPNG = try ImageCodec.encodePNG(RGBImage(width: original.width, height: original.height,
                                                           pixels: overlay))
        try put(".cam.png", Data(overlayPNG))
        if let guided {
            guard guided.count == 3 * H * W else {
                throw ExplainError.invalid("\(name): guided gradient \(guided.shape) does not match the \(H)×\(W) map")
            }
            let hwc = Overlay.hwc(guided.reshaped([3, H, W]))
            try put(
                ".guided.png",
                Data(try ImageCodec.encodePNG(RGBImage(width: W, height: H, pixels: Overlay.deprocess(hwc)))))
            let gc = Overlay.deprocess(Overlay.guidedCAM(guidedHWC: hwc, cam: plane))
            try put(".guided-cam.png", Data(try ImageCodec.encodePNG(RGBImage(width: W, height: H, pixels: gc))))
        }
        return Written(files: files, camAtOriginal: big, overlayPNG: overlayPNG)
    }
}
