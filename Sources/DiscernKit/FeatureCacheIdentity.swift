import DiscernEngine

extension ModelFile {
    /// What `evaluate --cache` keys a model's backbone by. A frozen backbone is its ImageNet weights file; a
    /// fine-tuned one is that name and a hash of every backbone weight, so that features of one fine-tuned model
    /// are never reused for another (or for the frozen network of the same file).
    public var featureCacheIdentity: String {
        let file = metadata.training.weightsFile ?? "model"
        guard metadata.training.fineTune != nil else { return file }
        return Self.tunedIdentity(file: file, weights: backboneWeights)
    }

    /// `file` and a hash of `weights`: FNV-1a over the names and the float bits, in name order.
    static func tunedIdentity(file: String, weights: [String: Tensor]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for name in weights.keys.sorted() {
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            for value in weights[name]!.data {
                hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3
            }
        }
        return file + "|tuned-" + String(hash, radix: 16)
    }
}
