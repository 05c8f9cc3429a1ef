import Foundation
import DiscernVision

/// Small JPEG thumbnails for the report's image grids.
enum Thumbnails {
    static func jpeg(_ path: String, maxSide: Int = 160) -> [UInt8]? {
        guard let img = try? ImageCodec.decodeFile(path, minSize: (maxSide, maxSide)) else { return nil }
        return try? ImageCodec.encodeJPEG(fit(img, maxSide: maxSide), quality: 82)
    }

    static func fit(_ img: RGBImage, maxSide: Int) -> RGBImage {
        let s = Double(maxSide) / Double(max(img.width, img.height))
        guard s < 1 else { return img }
        return Resample.resize(img, width: max(1, Int((Double(img.width) * s).rounded())),
                               height: max(1, Int((Double(img.height) * s).rounded())))
    }
}
