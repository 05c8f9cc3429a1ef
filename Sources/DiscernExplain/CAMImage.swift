import DiscernEngine

/// A batch of CAMs in [0, 1]: at the target layer's resolution and at the input's.
public struct CAMMaps: Sendable {
    public let feature: Tensor   // [N,h,w]
    public let input: Tensor     // [N,H,W]
}

/// Resizing and normalisation exactly as pytorch-grad-cam does them (numpy + cv2).
public enum CAMImage {
    /// The base's post-processing of raw maps [N,h,w]: ReLU, per-image min-max (scale_cam_image),
    /// bilinear resize to H×W (cv2.resize), then min-max again (the multi-layer aggregation step,
    /// which with one layer only re-stretches what resizing pulled in from the extremes).
    public static func postprocess(raw: Tensor, height: Int, width: Int) -> CAMMaps {
        var r = raw
        for i in r.data.indices where !(r.data[i] > 0) { r.data[i] = 0 }   // also maps NaN to 0
        let feature = minMax(r)
        return CAMMaps(feature: feature, input: minMax(resize(feature, height: height, width: width)))
    }

    /// Per-image (x − min) / (1e-7 + max(x − min)) over the last two dimensions.
    public static func minMax(_ t: Tensor) -> Tensor {
        let hw = t.shape.suffix(2).reduce(1, *)
        var out = t
        out.data.withUnsafeMutableBufferPointer { p in
            var start = 0
            while start < p.count {
                var lo = Float.infinity
                for k in start..<(start + hw) { lo = min(lo, p[k]) }
                var hi = -Float.infinity
                for k in start..<(start + hw) {
                    p[k] -= lo
                    hi = max(hi, p[k])
                }
                let d = 1e-7 + hi
                for k in start..<(start + hw) { p[k] /= d }
                start += hw
            }
        }
        return out
    }

    /// Bilinear resize of the last two dimensions of [..., h, w].
    /// alignCorners false = cv2.resize INTER_LINEAR / torch align_corners=False (half-pixel centres,
    /// no antialiasing); true = torch.nn.UpsamplingBilinear2d (what Score-CAM uses for its masks).
    public static func resize(_ t: Tensor, height: Int, width: Int, alignCorners: Bool = false) -> Tensor {
        let h = t.shape[t.rank - 2], w = t.shape[t.rank - 1]
        let planes = t.count / max(h * w, 1)
        let xs = taps(src: w, dst: width, alignCorners), ys = taps(src: h, dst: height, alignCorners)
        var out = [Float](repeating: 0, count: planes * height * width)
        t.data.withUnsafeBufferPointer { sp in
            out.withUnsafeMutableBufferPointer { op in
                for pl in 0..<planes {
                    let s = sp.baseAddress! + pl * h * w, o = op.baseAddress! + pl * height * width
                    for y in 0..<height {
                        let (y0, y1, fy) = ys[y]
                        let r0 = s + y0 * w, r1 = s + y1 * w, orow = o + y * width
                        for x in 0..<width {
                            let (x0, x1, fx) = xs[x]
                            let top = r0[x0] * (1 - fx) + r0[x1] * fx
                            let bot = r1[x0] * (1 - fx) + r1[x1] * fx
                            orow[x] = top * (1 - fy) + bot * fy
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(t.shape.dropLast(2)) + [height, width], data: out)
    }

    /// Source indices and weight for each destination coordinate.
    static func taps(src: Int, dst: Int, _ alignCorners: Bool) -> [(Int, Int, Float)] {
        (0..<dst).map { d in
            let f: Double
            if alignCorners {
                f = dst > 1 ? Double(d) * Double(src - 1) / Double(dst - 1) : 0
            } else {
                f = max((Double(d) + 0.5) * Double(src) / Double(dst) - 0.5, 0)
            }
            let i0 = min(Int(f.rounded(.down)), src - 1)
            let i1 = min(i0 + 1, src - 1)
            return (i0, i1, i0 == src - 1 ? 0 : Float(f - Double(i0)))
        }
    }
}
