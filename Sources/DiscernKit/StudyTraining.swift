import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining

/// The frozen backbone plus the trained head, and what it took.
struct TrainedHead {
    var extractor: FeatureExtractor
    var stateDict: [String: Tensor]
    var weightsFile: String
    var head: LinearHead
    var history: TrainingHistory
    var seconds: Double
    var checkpoints: [String]
    var options: StudyOptions
    var trainCount: Int, validationCount: Int
    var cache: FeatureCacheFile?
    /// Augmented views of the training images: with the clean features they are the unknown question's reference.
    var views: [Tensor] = []
    /// Set when `--fine-tune` unfroze blocks after the head training.
    var fineTune: FineTuneSettings?

    func modelFile(head: LinearHead, classes: [String]) -> ModelFile {
        var config = TrainingConfig()
        config.epochs = options.epochs; config.batchSize = options.batchSize; config.learningRate = options.learningRate
        config.seed = options.seed; config.checkpointThreshold = options.checkpointAccuracy
        let meta = ModelMetadata(backbone: extractor.backbone.kind.rawValue, classes: classes,
                                 mean: extractor.backbone.normalization.mean, std: extractor.backbone.normalization.std,
                                 imageSize: extractor.backbone.inputSize,
                                 training: .init(config: config, augmentViews: options.augmentViews, trainImages: trainCount,
                                                 validationImages: validationCount,
                                                 weightsFile: URL(fileURLWithPath: weightsFile).lastPathComponent,
                                                 createdAt: ISO8601DateFormatter().string(from: Date()),
                                                 fineTune: fineTune))
        return ModelFile(metadata: meta, backboneWeights: stateDict, head: head, detector: nil)
    }
}

extension Study {
    /// Trains the linear head on frozen features: from K cached augmented views per image, or
    /// (augmentViews == 0) with a fresh augmentation of every image in every epoch, as the study did.
    func trainHead(_ data: StudyData, out: OutputFolder) throws -> (TrainedHead, EvaluatedSet) {
        let t0 = Date()
        let (backbone, stateDict, weightsFile) = try BackboneWeights.load(options.backbone, path: options.weights)
        let extractor = try FeatureExtractor(backbone: backbone, batchSize: options.batchSize, precision: options.precision)
        extractor.fastDecode = options.fastDecode
        if let n = extractor.session.notice { Study.log(n) }
        Study.log("backbone \(backbone.kind.rawValue) (\(URL(fileURLWithPath: weightsFile).lastPathComponent)), \(backbone.featureCount) features, " +
                  (options.augmentViews > 0 ? "\(options.augmentViews) cached augmented views per image" : "fresh augmentation every epoch"))
        var config = TrainingConfig()
        config.epochs = options.epochs; config.batchSize = options.batchSize; config.learningRate = options.learningRate
        config.seed = options.seed; config.checkpointThreshold = options.checkpointAccuracy
        let trainer = HeadTrainer(head: LinearHead(features: backbone.featureCount, classes: data.classes.count, seed: options.seed),
                                  config: config)
        var pending = TrainedHead(extractor: extractor, stateDict: stateDict, weightsFile: weightsFile, head: trainer.head,
                                  history: TrainingHistory(), seconds: 0, checkpoints: [], options: options,
                                  trainCount: data.train.count, validationCount: data.validation.count,
                                  cache: FeatureCacheFile(dir: try out.folder("cache")))
        if !options.featureFiles.isEmpty {
            guard options.augmentViews > 0 else {
                throw KitError.invalid("--features needs cached augmented views: --augment-views must be at least 1")
            }
            pending.cache?.shards = try FeatureShardFile.join(options.featureFiles, batchSize: options.batchSize)
        }
        let checkpointDir = try out.folder("checkpoints")
        var checkpoints: [String] = []
        // Like the study, each epoch whose running accuracy passes the mark overwrites one checkpoint
        // (atomically, so a kill leaves the previous one intact); the final head is saved beside it.
        trainer.onCheckpoint = { cp in
            let name = cp.reason == .final ? "final.safetensors" : "checkpoint.safetensors"
            let url = checkpointDir.appendingPathComponent(name)
            var file = pending.modelFile(head: cp.head, classes: data.classes)
            file.metadata.metrics = ["checkpoint.epoch": Double(cp.epoch + 1), "checkpoint.running_accuracy": cp.accuracy]
            try file.save(to: url)
            if !checkpoints.contains(url.path) { checkpoints.append(url.path) }
        }
        // One bar over every batch of every epoch; the note shows the epoch and its running accuracy.
        // It is made once training starts, so its rate and ETA do not count the feature extraction.
        let batchesPerEpoch = (data.train.count + options.batchSize - 1) / options.batchSize
        func startProgress() -> Progress {
            let progress = Progress("training", total: options.epochs * batchesPerEpoch, unit: "batch")
            trainer.onProgress = { p in
                progress.advance(note: String(format: "epoch %d/%d, running accuracy %.3f", p.epoch + 1, p.epochs,
                                              p.runningAccuracy))
            }
            return progress
        }
        let history: TrainingHistory
        let progress: Progress
        if options.augmentViews > 0 {
            var views: [Tensor] = [], labels: [Int] = []
            for k in 0..<options.augmentViews {
                let f = try extractor.extract(data.train, augment: true, view: k, seed: options.seed,
                                              title: "augmented view \(k + 1)/\(options.augmentViews)",
                                              cache: pending.cache, name: "train-view\(k)", weights: weightsFile)
                views.append(f.features); labels = f.labels
            }
            pending.views = views
            let cache = try FeatureCache(views: views, labels: labels)
            progress = startProgress()
            history = try trainer.train(cache: cache)
        } else {
            progress = startProgress()
            let loader = try BatchLoader(samples: data.train, transform: extractor.transform(augment: true),
                                         options: .init(batchSize: options.batchSize, seed: options.seed, shuffle: true,
                                                        fastDecode: options.fastDecode, fastDecodeSize: backbone.inputSize,
                                                        mean: backbone.normalization.mean, std: backbone.normalization.std))
            history = try trainer.train(batchesPerEpoch: loader.batchCount()) { epoch, step in
                for batch in loader.epoch(epoch) where !batch.labels.isEmpty {
                    try step(FeatureBatch(features: try extractor.session.run(batch.images), labels: batch.labels))
                }
            }
        }
        progress.finish(note: String(format: "final running accuracy %.3f", history.epochs.last?.accuracy ?? 0))
        pending.head = trainer.head
        pending.history = history
        pending.checkpoints = checkpoints
        if options.fineTune {
            let settings = try fineTune(&pending, data: data)
            pending.fineTune = settings
        }
        let current = pending.extractor, currentWeights = pending.weightsFile
        // Clean (test-transform) training features: for the KDEs, the train accuracy and the feature scores.
        let clean = try current.extract(data.train, augment: false, title: "features (train)", cache: pending.cache,
                                        name: "train", weights: currentWeights)
        // Trained on fresh augmentations (or fine-tuned, which makes the cached views stale): two views
        // are extracted for the reference alone.
        if pending.views.isEmpty {
            for k in 0..<2 {
                pending.views.append(try current.extract(data.train, augment: true, view: k, seed: options.seed,
                                                         title: "reference view \(k + 1)/2", cache: pending.cache,
                                                         name: "train-view\(k)", weights: currentWeights).features)
            }
        }
        pending.seconds = Date().timeIntervalSince(t0)
        let set = EvaluatedSet(name: "train", features: clean, logits: Tensor(zeros: [0, data.classes.count]), table: nil)
        return (pending, set)
    }
}
