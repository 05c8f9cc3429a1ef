import Foundation
import DiscernEngine

/// Turning maps into pixels the way pytorch-grad-cam does (HWC RGB, UInt8).
public enum Overlay {
    /// OpenCV's COLORMAP_JET (the MATLAB jet: each channel 1.5 − |4x − k|, clipped), for v in 0...255.
    /// Agrees with cv2.applyColorMap to within one grey level.
    public static func jet(_ v: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        let x = Double(v) / 255
        func ch(_ k: Double) -> UInt8 { UInt8((min(max(1.5 - abs(4 * x - k), 0), 1) * 255).rounded()) }
        return (ch(3), ch(2), ch(1))
    }

    /// show_cam_on_image(img, mask, use_rgb=True, image_weight=w): the jet heatmap of uint8(255·mask)
    /// blended with the image, then divided by its maximum — with w = 0.5 this is the study's
    /// `heatmap + image` rescaled. `image` is HWC RGB of the mask's size; `mask` is [H,W] in [0,1].
    public static func camOnImage(image: [UInt8], mask: Tensor, imageWeight: Float = 0.5) throws -> [UInt8] {
        guard mask.rank == 2 || (mask.rank == 3 && mask.shape[0] == 1) else {
            throw ExplainError.invalid("overlay: mask must be [H,W], got \(mask.shape)")
        }
        let hw = mask.count
        guard image.count == 3 * hw else {
            throw ExplainError.invalid("overlay: image has \(image.count) bytes, mask needs \(3 * hw) (same H×W, RGB)")
        }
        guard imageWeight >= 0, imageWeight <= 1 else {
            throw ExplainError.invalid("overlay: image weight \(imageWeight) not in [0, 1]")
        }
        var cam = [Float](repeating: 0, count: 3 * hw)
        var peak: Float = 0
        var lut = [Float](repeating: 0, count: 3 * 256)  // jet colours as [0,1] floats
        for v in 0..<256 {
            let c = jet(UInt8(v))
            lut[3 * v] = Float(c.r) / 255
            lut[3 * v + 1] = Float(c.g) / 255
            lut[3 * v + 2] = Float(c.b) / 255
        }
        for p in 0..<hw {
            let m = mask.data[p]
            let level = m.isFinite ? Int(UInt8(clamping: Int(255 * m))) : 0   // np.uint8 truncates
            for k in 0..<3 {
                let v = (1 - imageWeight) * lut[3 * level + k] + imageWeight * Float(image[3 * p + k]) / 255
                cam[3 * p + k] = v
                peak = max(peak, v)
            }
        }
        return cam.map { UInt8(clamping: Int(255 * ($0 / max(peak, .leastNonzeroMagnitude)))) }
    }

    /// deprocess_image: standardise the whole map, ×0.1 + 0.5, clip to [0,1], ×255 → uint8 (truncated).
    /// `values` is any layout (the guided-backprop HWC map).
    public static func deprocess(_ values: [Float]) -> [UInt8] {
        let n = Double(max(values.count, 1))
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        let sd = variance.squareRoot() + 1e-5
        return values.map { v in
            let y = min(max((Double(v) - mean) / sd * 0.1 + 0.5, 0), 1)
            return y.isNaN ? 0 : UInt8(y * 255)   // non-finite gradients must not crash the writer
        }
    }

    /// CHW float [3,H,W] (one image of an input gradient) → HWC.
    public static func hwc(_ chw: Tensor) -> [Float] {
        let c = chw.shape[chw.rank - 3], h = chw.shape[chw.rank - 2], w = chw.shape[chw.rank - 1]
        var out = [Float](repeating: 0, count: c * h * w)
        for k in 0..<c {
            for y in 0..<h { for x in 0..<w { out[(y * w + x) * c + k] = chw.data[(k * h + y) * w + x] } }
        }
        return out
    }

    /// The guided Grad-CAM map: guided backprop (HWC) × the input-resolution CAM, per pixel.
    public static func guidedCAM(guidedHWC: [Float], cam: Tensor) -> [Float] {
        let hw = cam.count, c = guidedHWC.count / max(hw, 1)
        var out = guidedHWC
        for p in 0..<hw { for k in 0..<c { out[p * c + k] *= cam.data[p] } }
        return out
    }
}
