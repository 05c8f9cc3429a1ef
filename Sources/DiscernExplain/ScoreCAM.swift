import Foundation
import DiscernEngine

/// Score-CAM (Wang et al.), as pytorch-grad-cam: each channel, upsampled (align-corners bilinear)
/// and min-max scaled to [0,1], masks the input; the target's score on the masked input, softmaxed
/// over channels, is the channel's weight. Costs C forwards per image (or `maxChannels`), run
/// `batchSize` masked inputs at a time; masks are made per batch, so memory stays at one batch of
/// inputs (a 1280-channel layer of 224×224 masks would be 257 MB per image).
public struct ScoreCAM: Sendable {
    public var batchSize: Int
    /// At most this many channels per image get a masked forward: those whose activation map varies the
    /// most (Faster Score-CAM, Tabayashi 2020); the others get weight 0. nil: every channel (the original).
    public var maxChannels: Int?
    public init(batchSize: Int = 32, maxChannels: Int? = nil) {
        self.batchSize = max(1, batchSize)
        self.maxChannels = maxChannels.map { max(1, $0) }
    }

    /// - input: [N,3,H,W]; activations: [N,C,h,w]; targets: one class index per image.
    /// - score: runs the model on a batch of masked inputs [B,3,H,W], returning logits [B,classes].
    public func rawCAM(input: Tensor, activations a: Tensor, targets: [Int],
                       score: (Tensor) throws -> Tensor) throws -> Tensor {
        guard a.rank == 4, input.rank == 4 else { throw ExplainError.badShape("Score-CAM input/activations", a.shape) }
        let (n, c, _) = CAMMath.dims(a)
        guard input.shape[0] == n, targets.count == n else {
            throw ExplainError.invalid(
                "Score-CAM: \(n) activation maps but \(input.shape[0]) inputs and \(targets.count) targets")
        }
        let ch = input.shape[1], height = input.shape[2], width = input.shape[3], plane = height * width
        let mapSize = a.shape[2] * a.shape[3]
        var weights = [Float](repeating: 0, count: n * c)
        var batch = [Float](repeating: 0, count: min(batchSize, c) * ch * plane)
        for i in 0..<n {
            let selected = channels(a, image: i)
            var scores = [Float]()
            scores.reserveCapacity(selected.count)
            var start = 0
            while start < selected.count {
                let count = min(batchSize, selected.count - start)
                var maps = [Float]()
                maps.reserveCapacity(count * mapSize)
                for k in selected[start ..< start + count] {
                    let first = (i * c + k) * mapSize
                    maps.append(contentsOf: a.data[first ..< first + mapSize])
                }
                let masks = Self.masks(Tensor(shape: [count, a.shape[2], a.shape[3]], data: maps),
                                       height: height, width: width)
                input.data.withUnsafeBufferPointer { image in
                    masks.data.withUnsafeBufferPointer { mask in
                        batch.withUnsafeMutableBufferPointer { out in
                            for j in 0..<count {
                                for k in 0..<ch {
                                    let target = (j * ch + k) * plane
                                    let source = (i * ch + k) * plane
                                    let maskStart = j * plane
                                    for q in 0..<plane { out[target + q] = image[source + q] * mask[maskStart + q] }
                                }
                            }
                        }
                    }
                }
                let used = count * ch * plane
                let masked = Tensor(shape: [count, ch, height, width],
                                    data: used == batch.count ? batch : Array(batch[0 ..< used]))
                let logits = try score(masked)
                guard logits.rank == 2, logits.shape[0] == count, targets[i] >= 0, targets[i] < logits.shape[1] else {
                    throw ExplainError.invalid("Score-CAM: model returned \(logits.shape) for target \(targets[i])")
                }
                for j in 0..<count { scores.append(logits.data[j * logits.shape[1] + targets[i]]) }
                start += count
            }
            // Softmax of the target scores over the selected channels.
            let largest = scores.max() ?? 0
            let exponentials = scores.map { Foundation.exp(Double($0 - largest)) }
            let total = exponentials.reduce(0, +)
            for (j, k) in selected.enumerated() { weights[i * c + k] = Float(exponentials[j] / total) }
        }
        return CAMMath.weightedSum(a, weights: weights)
    }

    /// The channels of image `i` that get a masked forward, in channel order: all, or the `maxChannels`
    /// with the largest spatial variance of their activation map (ties: the lower channel).
    func channels(_ a: Tensor, image i: Int) -> [Int] {
        let c = a.shape[1], mapSize = a.shape[2] * a.shape[3]
        guard let limit = maxChannels, limit < c else { return Array(0..<c) }
        let variance: [Double] = (0..<c).map { k in
            let first = (i * c + k) * mapSize
            let values = a.data[first ..< first + mapSize].map(Double.init)
            let mean = values.reduce(0, +) / Double(mapSize)
            return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        }
        let ranked = (0..<c).sorted { variance[$0] != variance[$1] ? variance[$0] > variance[$1] : $0 < $1 }
        return ranked.prefix(limit).sorted()
    }

    /// Each activation channel upsampled to height×width and min-max scaled: [..., height, width].
    static func masks(_ a: Tensor, height: Int, width: Int) -> Tensor {
        var up = CAMImage.resize(a, height: height, width: width, alignCorners: true)
        let plane = height * width
        up.data.withUnsafeMutableBufferPointer { values in
            for k in 0..<(values.count / plane) {
                let start = k * plane
                var lo = Float.infinity
                var hi = -Float.infinity
                for q in start..<(start + plane) {
                    lo = min(lo, values[q])
                    hi = max(hi, values[q])
                }
                let span = hi - lo + 1e-8
                for q in start..<(start + plane) { values[q] = (values[q] - lo) / span }
            }
        }
        return up
    }
}
