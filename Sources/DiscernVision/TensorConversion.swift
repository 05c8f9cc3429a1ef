import CPixelKernels
import DiscernEngine

/// torchvision `ToTensor` then `Normalize(mean, std)`: v = (p / 255 - mean[c]) / std[c] in float32, the same
/// float32 operations torch performs, so values are identical. Output is CHW.
public func toTensor(_ image: RGBImage, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) -> Tensor {
    var data = [Float](repeating: 0, count: image.width * image.height * 3)
    data.withUnsafeMutableBufferPointer { toTensor(image, mean: mean, std: std, into: $0.baseAddress!) }
    return Tensor(shape: [3, image.height, image.width], data: data)
}

/// Same as `toTensor` into caller memory of 3·H·W floats (one slot of a batch).
public func toTensor(_ image: RGBImage, mean: [Float], std: [Float], into out: UnsafeMutablePointer<Float>) {
    precondition(mean.count == 3 && std.count == 3, "toTensor: mean and std need 3 values")
    guard !image.pixels.isEmpty else { return }
    image.pixels.withUnsafeBufferPointer { source in
        discern_normalize_planar(source.baseAddress!, image.width * image.height, mean, std, out)
    }
}
