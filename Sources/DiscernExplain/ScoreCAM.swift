import Foundation
import DiscernEngine

/// Score-CAM (Wang et al.), as pytorch-grad-cam: each channel, upsampled (align-corners bilinear)
/// and min-max scaled to [0,1], masks the input; the target's score on the masked input, softmaxed
/// over channels, is the channel's weight. Costs C forwards per image, run in batches.
public struct ScoreCAM: Sendable {
    public var batchSize: Int
    public init(batchSize: Int = 16) { self.batchSize = max(1, batchSize) }

    /// - input: [N,3,H,W]; activations: [N,C,h,w]; targets: one class index per image.
    /// - score: runs the model on a batch of masked inputs [B,3,H,W], returning logits [B,classes].
    public func rawCAM(input: Tensor, activations a: Tensor, targets: [Int],
                       score: (Tensor) throws -> Tensor) throws -> Tensor {
        guard a.rank == 4, input.rank == 4 else { throw ExplainError.badShape("Score-CAM input/activations", a.shape) }
        let (n, c, _) = CAMMath.dims(a)
        guard input.shape[0] == n, targets.count == n else {
            throw ExplainError.invalid("Score-CAM: \(n) activation maps but \(input.shape[0]) inputs and \(targets.count) targets")
        }
        let ch = input.shape[1], H = input.shape[2], W = input.shape[3], plane = H * W
        let masks = Self.masks(a, height: H, width: W)
        var weights = [Float](repeating: 0, count: n * c)
        for i in 0..<n {
            let img = Array(input.data[(i * ch * plane)..<((i + 1) * ch * plane)])
            var scores = [Float]()
            scores.reserveCapacity(c)
            var start = 0
            while start < c {
                let b = min(batchSize, c - start)
                var batch = [Float](repeating: 0, count: b * ch * plane)
                for j in 0..<b {
                    let m = (i * c + start + j) * plane
                    for k in 0..<ch { for p in 0..<plane {
                        batch[(j * ch + k) * plane + p] = img[k * plane + p] * masks.data[m + p]
                    } }
                }
                let logits = try score(Tensor(shape: [b, ch, H, W], data: batch))
                guard logits.rank == 2, logits.shape[0] == b, targets[i] >= 0, targets[i] < logits.shape[1] else {
                    throw ExplainError.invalid("Score-CAM: model returned \(logits.shape) for target \(targets[i])")
                }
                for j in 0..<b { scores.append(logits.data[j * logits.shape[1] + targets[i]]) }
                start += b
            }
            let mx = scores.max() ?? 0
            let e = scores.map { Double($0 - mx).exp() }
            let z = e.reduce(0, +)
            for k in 0..<c { weights[i * c + k] = Float(e[k] / z) }
        }
        return CAMMath.weightedSum(a, weights: weights)
    }

    /// Each activation channel upsampled to H×W and min-max scaled: [N,C,H,W].
    static func masks(_ a: Tensor, height: Int, width: Int) -> Tensor {
        var up = CAMImage.resize(a, height: height, width: width, alignCorners: true)
        let plane = height * width
        up.data.withUnsafeMutableBufferPointer { p in
            for k in 0..<(p.count / plane) {
                let s = k * plane
                var lo = Float.infinity, hi = -Float.infinity
                for q in s..<(s + plane) { lo = min(lo, p[q]); hi = max(hi, p[q]) }
                let d = hi - lo + 1e-8
                for q in s..<(s + plane) { p[q] = (p[q] - lo) / d }
            }
        }
        return up
    }
}

private extension Double {
    func exp() -> Double { Foundation.exp(self) }
}
