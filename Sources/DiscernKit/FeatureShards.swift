import Foundation
import DiscernEngine
import DiscernVision
import DiscernWeights

/// One feature extraction `discern train` makes: which images, which transform, which augmentation draw.
struct FeatureJob {
    var name: String
    var samples: [ImageFolder.Sample]
    var transform: FeatureView
    var view: Int
    var seed: UInt64
}

/// What a `discern features` shard file holds for one extraction: its rows' places in the whole extraction.
struct FeatureShardPart: Codable {
    var key: String
    var positions: [Int]
    var paths: [String]
    var skipped: [[String]]
    /// Each row's decoded image size.
    var sizes: [PixelSize]
}

extension Study {
    /// The cached augmented views of the training images that train the head: the plain ones (the study's
    /// augmentation), then those with a photo degradation on top. The names are the cache's.
    func trainingViewJobs(_ samples: [ImageFolder.Sample]) -> [FeatureJob] {
        (0 ..< options.plainViews).map {
            FeatureJob(name: "train-view\($0)", samples: samples, transform: .training, view: $0, seed: options.seed)
        } + (0 ..< options.degradedViews).map {
            FeatureJob(name: "train-degraded\($0)", samples: samples, transform: .degraded, view: $0,
                       seed: options.seed ^ Study.degradationSeed)
        }
    }

    /// Every extraction `train` makes, in its order and with its names and seeds (the names are the cache's).
    func featureJobs(_ data: StudyData) throws -> [FeatureJob] {
        guard options.augmentViews > 0 else {
            throw KitError.invalid("feature shards need cached augmented views: --augment-views must be at least 1")
        }
        var jobs = trainingViewJobs(data.train)
        jobs.append(FeatureJob(name: "train", samples: data.train, transform: .evaluation, view: 0, seed: 0))
        if !data.validation.isEmpty {
            jobs.append(FeatureJob(name: "eval-validation", samples: data.validation, transform: .evaluation, view: 0,
                                   seed: 0))
            for copy in 0 ..< options.shiftCopies {
                jobs.append(FeatureJob(name: "shifted-validation\(copy)", samples: data.validation, transform: .shifted,
                                       view: copy, seed: options.seed ^ Study.shiftSeed))
            }
            for copy in 0 ..< options.thumbnailCopies {
                jobs.append(FeatureJob(name: "thumbnail-validation\(copy)", samples: data.validation,
                                       transform: .thumbnail, view: copy, seed: options.seed ^ Study.shiftSeed))
            }
            for copy in 0 ..< options.detailCopies {
                jobs.append(FeatureJob(name: "detail-validation\(copy)", samples: data.validation, transform: .detail,
                                       view: copy, seed: options.seed ^ Study.shiftSeed))
            }
        }
        return jobs
    }

    /// `discern features`: the backbone features of batches `b` with `b % N == I` of every extraction `train` makes,
    /// in one file; `train --features` joins the N files and gets exactly what one process would have computed.
    public func extractFeatures(shard: Shard, to file: String) throws -> Int {
        let data = try StudyData.load(options, needTest: false)
        for skipped in data.skipped { Study.log(skipped.description) }
        let (backbone, _, weightsFile) = try loadBackbone()
        let extractor = try makeExtractor(backbone)
        var tensors: [String: Tensor] = [:]
        var metadata = ["format": FeatureShardFile.format, "shard": shard.description,
                        "batch-size": "\(options.batchSize)", "width": "\(backbone.featureCount)"]
        var rows = 0
        for job in try featureJobs(data) {
            let batches = (0 ..< (job.samples.count + options.batchSize - 1) / options.batchSize).filter(shard.contains)
            let (set, positions) = try extractor.extract(job.samples, transform: job.transform, view: job.view,
                                                         seed: job.seed, batches: batches,
                                                         title: "\(job.name) (shard \(shard))")
            let key = FeatureCacheFile.key(job.samples, transform: job.transform, view: job.view, seed: job.seed,
                                           extractor: extractor, weights: weightsFile)
            // A shard may hold no image of a small extraction: empty tensors are left out of the file.
            if set.count > 0 {
                tensors[job.name + ".features"] = set.features
                tensors[job.name + ".labels"] = Tensor(shape: [set.labels.count], data: set.labels.map(Float.init))
            }
            let part = FeatureShardPart(key: key, positions: positions, paths: set.paths,
                                        skipped: set.skipped.map { [$0.path, $0.reason] }, sizes: set.sourceSizes)
            metadata[job.name] = String(decoding: try JSONEncoder().encode(part), as: UTF8.self)
            for skipped in set.skipped { Study.log(skipped.description) }
            rows += set.count
        }
        try SafeTensors.write(SafeTensors.File(tensors: tensors, metadata: metadata), to: URL(fileURLWithPath: file))
        return rows
    }

    static let shiftSeed: UInt64 = 0x5417F7
    static let degradationSeed: UInt64 = 0xDE64AD
}

/// The files of `discern features` joined back into whole extractions, for `train --features`.
enum FeatureShardFile {
    // 2: each row's decoded image size.
    static let format = "discern-features-2"

    /// Extraction name → (cache key, features in the one-process order). Every shard 0..<N must be there once.
    /// `batchSize` must be the one the shards were made with: it decides which images share a batch.
    static func join(_ files: [String], batchSize: Int) throws -> [String: (key: String, set: FeatureSet)] {
        var shards: [Int: String] = [:]
        var count: Int?
        var parts: [String: [(part: FeatureShardPart, features: Tensor, labels: Tensor, file: String)]] = [:]
        for file in files {
            let contents: SafeTensors.File
            do {
                contents = try SafeTensors.read(URL(fileURLWithPath: file))
            } catch {
                throw KitError.unreadable(file, "\(error)")
            }
            if let written = contents.metadata["format"], written.hasPrefix("discern-features-"), written != format {
                throw KitError.badData(file, "was written by another version of discern features (\(written), "
                                       + "this one reads \(format)): extract the shards again")
            }
            guard contents.metadata["format"] == format, let shardText = contents.metadata["shard"],
                  let shard = try? Shard(parsing: shardText)
            else { throw KitError.badData(file, "is not a file written by discern features") }
            guard contents.metadata["batch-size"] == "\(batchSize)" else {
                let given = contents.metadata["batch-size"] ?? "?"
                throw KitError.badData(file, "was extracted with --batch-size \(given), "
                                       + "not \(batchSize): give train the same --batch-size")
            }
            if let known = count, known != shard.count {
                throw KitError.badData(file, "is shard \(shard) but another file is of \(known) shards")
            }
            count = shard.count
            if let other = shards[shard.index] { throw KitError.badData(file, "is shard \(shard), as is \(other)") }
            shards[shard.index] = file
            guard let width = contents.metadata["width"].flatMap({ Int($0) }) else {
                throw KitError.badData(file, "has no feature width")
            }
            for (name, json) in contents.metadata where !["format", "shard", "batch-size", "width"].contains(name) {
                guard let part = try? JSONDecoder().decode(FeatureShardPart.self, from: Data(json.utf8)) else {
                    throw KitError.badData(file, "extraction '\(name)' is damaged")
                }
                let empty = Tensor(zeros: [0, width])
                let features = contents.tensors[name + ".features"] ?? empty
                let labels = contents.tensors[name + ".labels"] ?? empty
                guard features.rank == 2, features.shape == [part.positions.count, width],
                      labels.count == part.positions.count, part.paths.count == part.positions.count,
                      part.sizes.count == part.positions.count
                else { throw KitError.badData(file, "extraction '\(name)' is damaged") }
                parts[name, default: []].append((part, features, labels, file))
            }
        }
        let shardCount = count ?? 0
        let missing = (0 ..< shardCount).filter { shards[$0] == nil }
        guard missing.isEmpty else {
            let list = missing.map(String.init).joined(separator: ", ")
            throw KitError.invalid("features of \(shardCount) shards: shard(s) \(list) missing; "
                                   + "give every shard's file")
        }
        var joined: [String: (key: String, set: FeatureSet)] = [:]
        for (name, pieces) in parts {
            guard pieces.count == shardCount, let key = pieces.first?.part.key else {
                throw KitError.invalid("extraction '\(name)' is in \(pieces.count) of the \(shardCount) shard files")
            }
            if let odd = pieces.first(where: { $0.part.key != key }) {
                throw KitError.badData(odd.file, "'\(name)' was extracted with other options than in \(pieces[0].file)")
            }
            var rows: [(position: Int, piece: Int, row: Int)] = []
            for (pieceIndex, piece) in pieces.enumerated() {
                rows += piece.part.positions.enumerated().map { ($1, pieceIndex, $0) }
            }
            rows.sort { $0.position < $1.position }
            let width = pieces[0].features.shape[1]    // every piece's, checked when read
            var data = [Float]()
            data.reserveCapacity(rows.count * width)
            var labels: [Int] = []
            var paths: [String] = []
            var sizes: [PixelSize] = []
            for (index, row) in rows.enumerated() {
                if index > 0 && rows[index - 1].position == row.position {
                    throw KitError.badData(pieces[row.piece].file,
                                           "'\(name)' image \(row.position) is in two shard files")
                }
                let piece = pieces[row.piece]
                data += piece.features.data[row.row * width ..< (row.row + 1) * width]
                labels.append(Int(piece.labels.data[row.row]))
                paths.append(piece.part.paths[row.row])
                sizes.append(piece.part.sizes[row.row])
            }
            let skipped = pieces.flatMap(\.part.skipped).filter { $0.count == 2 }.sorted { $0[0] < $1[0] }
                .map { SkippedImage(path: $0[0], reason: $0[1]) }
            joined[name] = (key, FeatureSet(features: Tensor(shape: [rows.count, width], data: data), labels: labels,
                                            paths: paths, skipped: skipped, sourceSizes: sizes))
        }
        return joined
    }
}
