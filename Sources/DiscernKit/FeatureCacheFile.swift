import Foundation
import DiscernEngine
import DiscernWeights
import DiscernVision

/// Finished feature extractions of a run, kept in `<out>/cache/` so `--resume` after a kill or a crash
/// redoes only what was not finished. A file is used only when its key (backbone weights, images, transform,
/// view, seed) matches; it is written atomically, so a kill never leaves a partial one.
struct FeatureCacheFile {
    let dir: URL
    /// `train --features`: the joined shard files; every extraction must then come from them.
    var shards: [String: (key: String, set: FeatureSet)]?

    static func key(_ samples: [ImageFolder.Sample], transform: FeatureView, view: Int, seed: UInt64,
                    extractor: FeatureExtractor, weights: String) -> String {
        // FNV-1a over the paths and labels: the same images in the same order.
        var hash = FNV1a()
        for sample in samples { hash.add(sample.path + "\t\(sample.label)\n") }
        return [extractor.backbone.kind.rawValue, weights, extractor.session.precision.rawValue, transform.rawValue,
                "view\(view)", "seed\(seed)", "size\(extractor.backbone.inputSize)",
                extractor.fastDecode ? "fast" : "exact", "n\(samples.count)", hash.hex]
            .joined(separator: "|")
    }

    func url(_ name: String) -> URL { dir.appendingPathComponent(name + ".safetensors") }

    func load(_ name: String, key: String) -> FeatureSet? {
        guard let file = try? SafeTensors.read(url(name)), file.metadata["key"] == key,
              let features = file.tensors["features"], let labels = file.tensors["labels"],
              let pathsJSON = file.metadata["paths"],
              let paths = try? JSONDecoder().decode([String].self, from: Data(pathsJSON.utf8)),
              let skippedJSON = file.metadata["skipped"],
              let skipped = try? JSONDecoder().decode([[String]].self, from: Data(skippedJSON.utf8)),
              // Files written before the decoded sizes were kept have no "sizes": extracted again.
              let sizesJSON = file.metadata["sizes"],
              let sizes = try? JSONDecoder().decode([PixelSize].self, from: Data(sizesJSON.utf8)),
              paths.count == labels.count, sizes.count == paths.count, features.rank == 2,
              features.shape[0] == paths.count else { return nil }
        return FeatureSet(features: features, labels: labels.data.map { Int($0) }, paths: paths,
                          skipped: skipped.filter { $0.count == 2 }.map { SkippedImage(path: $0[0], reason: $0[1]) },
                          sourceSizes: sizes)
    }

    func save(_ set: FeatureSet, name: String, key: String) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let skipped = try JSONEncoder().encode(set.skipped.map { [$0.path, $0.reason] })
        let metadata = ["key": key,
                        "paths": String(decoding: try JSONEncoder().encode(set.paths), as: UTF8.self),
                        "skipped": String(decoding: skipped, as: UTF8.self),
                        "sizes": String(decoding: try JSONEncoder().encode(set.sourceSizes), as: UTF8.self)]
        let labels = Tensor(shape: [set.labels.count], data: set.labels.map(Float.init))
        let file = SafeTensors.File(tensors: ["features": set.features, "labels": labels], metadata: metadata)
        try SafeTensors.write(file, to: url(name))
    }
}

extension FeatureExtractor {
    /// `extract`, through the run's cache when there is one.
    func extract(_ samples: [ImageFolder.Sample], augment: Bool, view: Int = 0, seed: UInt64 = 0, title: String,
                 cache: FeatureCacheFile?, name: String, weights: String) throws -> FeatureSet {
        try extract(samples, transform: augment ? .training : .evaluation, view: view, seed: seed, title: title,
                    cache: cache, name: name, weights: weights)
    }

    func extract(_ samples: [ImageFolder.Sample], transform: FeatureView, view: Int = 0, seed: UInt64 = 0,
                 title: String, cache: FeatureCacheFile?, name: String, weights: String) throws -> FeatureSet {
        guard let cache else { return try extract(samples, transform: transform, view: view, seed: seed, title: title) }
        let key = FeatureCacheFile.key(samples, transform: transform, view: view, seed: seed, extractor: self,
                                       weights: weights)
        if let shards = cache.shards {
            guard let joined = shards[name] else {
                throw KitError.invalid("the --features files have no '\(name)' extraction: make them with the "
                                       + "options given to train (--augment-views, --degrade, --shift-copies, "
                                       + "--validation-fraction)")
            }
            guard joined.key == key else {
                throw KitError.invalid("the --features files' '\(name)' was extracted with other options or images "
                                       + "than this train: give discern features the same --data, --weights, --seed, "
                                       + "--batch-size, --precision and --fast-decode")
            }
            Study.log("\(title): \(joined.set.count) images from the --features files")
            return joined.set
        }
        if let hit = cache.load(name, key: key) {
            Study.log("\(title): \(hit.count) images from the cache of an earlier attempt")
            return hit
        }
        let set = try extract(samples, transform: transform, view: view, seed: seed, title: title)
        try cache.save(set, name: name, key: key)
        return set
    }
}
