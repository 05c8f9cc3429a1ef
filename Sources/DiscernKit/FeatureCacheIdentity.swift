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
        var hash = FNV1a()
        for name in weights.keys.sorted() {
            hash.add(name)
            hash.add(weights[name]!.data)
        }
        return file + "|tuned-" + hash.hex
    }
}
