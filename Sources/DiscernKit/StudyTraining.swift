import Foundation
import DiscernEngine
import DiscernModels
import DiscernVision
import DiscernTraining

/// What a model file of the run holds besides its head: the backbone and its weights, and how it was trained.
struct ModelRecipe {
    let backbone: Backbone
    let stateDict: [String: Tensor]
    let weightsFile: String
    let options: StudyOptions
    let trainCount: Int
    let validationCount: Int
    /// Set when `--fine-tune` unfroze blocks after the head training.
    let fineTune: FineTuneSettings?

    func modelFile(head: LinearParams, classes: [String]) -> ModelFile {
        let training = ModelMetadata.TrainingSettings(
            config: options.trainingConfig, augmentViews: options.augmentViews, trainImages: trainCount,
            validationImages: validationCount, weightsFile: URL(fileURLWithPath: weightsFile).lastPathComponent,
            createdAt: ISO8601DateFormatter().string(from: Date()), fineTune: fineTune,
            degradation: options.degradation)
        let metadata = ModelMetadata(backbone: backbone.kind.rawValue, classes: classes,
                                     mean: backbone.normalization.mean, std: backbone.normalization.std,
                                     imageSize: backbone.inputSize, training: training)
        return ModelFile(metadata: metadata, backboneWeights: stateDict, head: head, detector: nil)
    }
}

extension StudyOptions {
    /// The head training's settings.
    var trainingConfig: TrainingConfig {
        var config = TrainingConfig()
        config.epochs = epochs
        config.batchSize = batchSize
        config.learningRate = learningRate
        config.seed = seed
        config.checkpointThreshold = checkpointAccuracy
        return config
    }
}

/// The network after training: the extractor (the backbone the features come from), the head, what a model file
/// needs, and the cached augmented views. Fine-tuning turns one into another.
struct TrainedNetwork {
    let extractor: FeatureExtractor
    let recipe: ModelRecipe
    let head: LinearParams
    let history: TrainingHistory
    let cache: FeatureCacheFile?
    /// The backbone as the cache keys its extractions: the ImageNet weights file, and after fine-tuning a hash of
    /// every tuned weight too, so the frozen network's entries are never read for the tuned one (and a resumed
    /// fine-tuned run reuses its own).
    let cacheIdentity: String
    /// Augmented views of the training images (empty after fine-tuning, which makes them stale).
    let views: [Tensor]
}

/// The trained network with what the evaluation needs besides: the clean training features and the unknown
/// question's reference views.
struct TrainedHead {
    let network: TrainedNetwork
    /// With the clean features the unknown question's reference: the network's cached augmented views, or two
    /// views extracted for the reference alone when it has none (fresh augmentation, or fine-tuned).
    let referenceViews: [Tensor]
    /// Clean (test-transform) features of the training images.
    let trainFeatures: FeatureSet
    let checkpoints: [String]
    let seconds: Double

    var weightsFile: String { network.recipe.weightsFile }
    var cacheIdentity: String { network.cacheIdentity }

    /// Logits of already extracted features.
    func evaluate(_ features: FeatureSet, name: String) throws -> EvaluatedSet {
        EvaluatedSet(name: name, features: features, logits: try network.head.logits(features.features))
    }

    /// Test-transform features (cached as "eval-<name>") and logits of `samples`.
    func evaluate(_ samples: [ImageFolder.Sample], name: String) throws -> EvaluatedSet {
        let features = try network.extractor.extract(samples, augment: false, title: "features (\(name))",
                                                     cache: network.cache, name: "eval-\(name)", weights: cacheIdentity)
        return try evaluate(features, name: name)
    }
}

extension Study {
    /// The backbone as the options name it (kind, weight file or search, input side), with the state dict it was
    /// built from and the file's path: what training and `discern features` both start from.
    func loadBackbone() throws -> (Backbone, [String: Tensor], String) {
        try BackboneWeights.load(options.backbone, path: options.weights, search: options.weightsSearch,
                                 inputSize: options.imageSize)
    }

    func makeExtractor(_ backbone: Backbone) throws -> FeatureExtractor {
        let extractor = try FeatureExtractor(backbone: backbone, batchSize: options.batchSize,
                                             precision: options.precision, progress: progress)
        extractor.fastDecode = options.fastDecode
        return extractor
    }

    /// Trains the linear head on frozen features: from K cached augmented views per image, or
    /// (augmentViews == 0) with a fresh augmentation of every image in every epoch, as the study did;
    /// then fine-tunes when asked, and extracts the clean training features.
    func trainHead(_ data: StudyData, out: OutputFolder) throws -> TrainedHead {
        let start = Date()
        let (backbone, stateDict, weightsFile) = try loadBackbone()
        let extractor = try makeExtractor(backbone)
        if let notice = extractor.session.notice { Study.log(notice) }
        let viewsNote = options.augmentationSummary
        Study.log("backbone \(backbone.kind.rawValue) (\(URL(fileURLWithPath: weightsFile).lastPathComponent)), "
                  + "\(backbone.featureCount) features, " + viewsNote)
        let initialHead = LinearParams(inFeatures: backbone.featureCount, outFeatures: data.classes.count,
                                       seed: options.seed)
        let trainer = HeadTrainer(head: initialHead, config: options.trainingConfig)
        var cache = FeatureCacheFile(dir: try out.folder("cache"))
        if !options.featureFiles.isEmpty {
            guard options.augmentViews > 0 else {
                throw KitError.invalid("--features needs cached augmented views: --augment-views must be at least 1")
            }
            cache.shards = try FeatureShardFile.join(options.featureFiles, batchSize: options.batchSize)
        }
        let recipe = ModelRecipe(backbone: backbone, stateDict: stateDict, weightsFile: weightsFile, options: options,
                                 trainCount: data.train.count, validationCount: data.validation.count, fineTune: nil)
        let checkpointFolder = try out.folder("checkpoints")
        var checkpoints: [String] = []
        // Like the study, each epoch whose running accuracy passes the mark overwrites one checkpoint
        // (atomically, so a kill leaves the previous one intact); the final head is saved beside it.
        trainer.onCheckpoint = { checkpoint in
            let name = checkpoint.reason == .final ? "final.safetensors" : "checkpoint.safetensors"
            let url = checkpointFolder.appendingPathComponent(name)
            var file = recipe.modelFile(head: checkpoint.head, classes: data.classes)
            file.metadata.metrics = ["checkpoint.epoch": Double(checkpoint.epoch + 1),
                                     "checkpoint.running_accuracy": checkpoint.accuracy]
            try file.save(to: url)
            if !checkpoints.contains(url.path) { checkpoints.append(url.path) }
        }
        // One bar over every batch of every epoch; the note shows the epoch and its running accuracy.
        // It is made once training starts, so its rate and ETA do not count the feature extraction.
        let batchesPerEpoch = (data.train.count + options.batchSize - 1) / options.batchSize
        func startProgress() -> any ProgressTask {
            let task = progress.start("training", total: options.epochs * batchesPerEpoch, unit: "batch")
            trainer.onProgress = { step in
                task.advance(1, note: String(format: "epoch %d/%d, running accuracy %.3f", step.epoch + 1,
                                             step.epochs, step.runningAccuracy))
            }
            return task
        }
        let history: TrainingHistory
        let task: any ProgressTask
        var views: [Tensor] = []
        if options.augmentViews > 0 {
            var labels: [Int] = []
            // Degraded views train the head only: the verdict's references stay the plain views, so a degraded
            // photo of something else does not find training neighbours that look like it.
            var degraded: [Tensor] = []
            for (index, job) in trainingViewJobs(data.train).enumerated() {
                let title = "augmented view \(index + 1)/\(options.augmentViews)"
                    + (job.transform == .degraded ? ", degraded" : "")
                let features = try extractor.extract(job.samples, transform: job.transform, view: job.view,
                                                     seed: job.seed, title: title, cache: cache, name: job.name,
                                                     weights: weightsFile)
                if job.transform == .degraded {
                    degraded.append(features.features)
                } else {
                    views.append(features.features)
                }
                labels = features.labels
            }
            let featureCache = try FeatureCache(views: views + degraded, labels: labels)
            task = startProgress()
            history = try trainer.train(cache: featureCache)
        } else {
            task = startProgress()
            let loaderOptions = ModelInput(backbone: backbone).loaderOptions(
                batchSize: options.batchSize, seed: options.seed, shuffle: true, fastDecode: options.fastDecode)
            let loader = try BatchLoader(samples: data.train,
                                         transform: extractor.streamedTraining(degradation: options.degradation),
                                         options: loaderOptions)
            history = try trainer.train(batchesPerEpoch: loader.batchCount()) { epoch, step in
                for batch in loader.epoch(epoch) where !batch.labels.isEmpty {
                    try step(FeatureBatch(features: try extractor.session.run(batch.images), labels: batch.labels))
                }
            }
        }
        task.finish(note: String(format: "final running accuracy %.3f", history.epochs.last?.accuracy ?? 0))
        let headTrained = TrainedNetwork(extractor: extractor, recipe: recipe, head: trainer.head, history: history,
                                         cache: cache, cacheIdentity: recipe.weightsFile, views: views)
        let fineTuneCheckpoint = checkpointFolder.appendingPathComponent(FineTuneCheckpoint.fileName)
        let network = options.fineTune
            ? try fineTune(headTrained, data: data, checkpoint: fineTuneCheckpoint)
            : headTrained
        if options.fineTune { checkpoints.append(fineTuneCheckpoint.path) }
        // Clean (test-transform) training features: for the KDEs, the train accuracy and the feature scores.
        let clean = try network.extractor.extract(data.train, augment: false, title: "features (train)",
                                                  cache: network.cache, name: "train",
                                                  weights: network.cacheIdentity)
        // Trained on fresh augmentations (or fine-tuned, which makes the cached views stale): two views
        // are extracted for the reference alone.
        let referenceViews = network.views.isEmpty
            ? try (0..<2).map { view in
                try network.extractor.extract(data.train, augment: true, view: view, seed: options.seed,
                                              title: "reference view \(view + 1)/2", cache: network.cache,
                                              name: "train-view\(view)", weights: network.cacheIdentity).features
            }
            : network.views
        return TrainedHead(network: network, referenceViews: referenceViews, trainFeatures: clean,
                           checkpoints: checkpoints, seconds: Date().timeIntervalSince(start))
    }
}
