import Foundation
import DiscernVision

/// Small JPEG thumbnails for the report's image grids.
enum Thumbnails {
    static func jpeg(_ path: String, maxSide: Int = 160) -> [UInt8]? {
        guard let image = try? ImageCodec.decodeFile(path, minSize: (maxSide, maxSide)) else { return nil }
        return try? ImageCodec.encodeJPEG(fit(image, maxSide: maxSide), quality: 82)
    }

    static func fit(_ image: RGBImage, maxSide: Int) -> RGBImage {
        let scale = Double(maxSide) / Double(max(image.width, image.height))
        guard scale < 1 else { return image }
        return Resample.resize(image, width: max(1, Int((Double(image.width) * scale).rounded())),
                               height: max(1, Int((Double(image.height) * scale).rounded())))
    }
}
