import Foundation
import DiscernEngine
import DiscernModels
import DiscernTraining
import DiscernVision
import DiscernWeights

/// What `--fine-tune` changed, kept in the model file's metadata.
public struct FineTuneSettings: Codable, Sendable, Equatable {
    /// Unfrozen blocks; nil = all.
    public var blocks: Int?
    public var epochs: Int
    public var maxLearningRate: Double
    public var groupLearningRates: [Double]
    public var trainedArrays: Int
}

extension Study {
    /// fastai's `fine_tune` after the frozen head training: unfreezes the last blocks and trains them
    /// with the head for `fineTuneEpochs` one-cycle epochs, discriminative rates lr/100 … lr over the
    /// layer groups, BatchNorm statistics frozen. Augmented images stream through the prefetching
    /// loader; the frozen prefix runs on the fused inference session, the rest on the autograd executor.
    /// The network returned has the fine-tuned backbone weights, extractor and head, a feature cache of its own
    /// (`cache/tuned/`, keyed by its weights), and no cached views. After every epoch the state is saved to
    /// `checkpoint`; with `--resume` a checkpoint of the same run continues after its last finished epoch.
    func fineTune(_ network: TrainedNetwork, data: StudyData, checkpoint: URL) throws -> TrainedNetwork {
        let backbone = network.extractor.backbone
        let split = try backbone.fineTuneSplit(unfreezing: options.unfreezeBlocks)
        let prefix = try split.prefix.map { try InferenceSession(graph: $0, batchSize: options.batchSize) }
        let trainable = try TrainableGraph(graph: split.tail, from: split.firstTrainable,
                                           groupStarts: split.groupStarts)
        let tuner = FineTuner(trainable: trainable, head: network.head)
        let rates = OneCycle.discriminative(max: options.fineTuneLearningRate, groups: tuner.groupCount)
        let loaderOptions = ModelInput(backbone: backbone).loaderOptions(
            batchSize: options.batchSize, seed: options.seed ^ 0xF17E, shuffle: true, fastDecode: options.fastDecode)
        let loader = try BatchLoader(samples: data.train,
                                     transform: network.extractor.streamedTraining(degradation: options.degradation),
                                     options: loaderOptions)
        let perEpoch = loader.batchCount()
        let cycle = OneCycle(steps: options.fineTuneEpochs * perEpoch)
        let blocks = options.unfreezeBlocks.map { "last \($0) blocks" } ?? "every block"
        Study.log("fine-tuning \(blocks) of \(backbone.kind.rawValue): \(trainable.arrays.values.count) arrays, "
                  + "\(options.fineTuneEpochs) one-cycle epochs, learning rates "
                  + rates.map { String(format: "%.1e", $0) }.joined(separator: " … "))
        let identity = FineTuneCheckpoint.identity(options: options, backbone: backbone.kind.rawValue,
                                                   trainPaths: data.train.map(\.path), batchesPerEpoch: perEpoch)
        var history = network.history
        var firstEpoch = 0
        if options.resume {
            let (saved, reason) = FineTuneCheckpoint.load(checkpoint, identity: identity)
            if let saved, saved.epochsDone <= options.fineTuneEpochs {
                try tuner.restore(saved.snapshot)
                history = saved.history
                firstEpoch = saved.epochsDone
                Study.log("fine-tuning resumes after epoch \(firstEpoch) of \(options.fineTuneEpochs) from "
                          + checkpoint.path)
            } else if let reason {
                Study.log("fine-tuning starts over: \(checkpoint.path) is not used (\(reason))")
            }
        }
        let task = progress.start("fine-tuning", total: (options.fineTuneEpochs - firstEpoch) * perEpoch,
                                  unit: "batch")
        var step = firstEpoch * perEpoch
        for epoch in firstEpoch..<options.fineTuneEpochs {
            let start = Date()
            var correct = 0
            var seen = 0
            var lossSum = 0.0
            for batch in loader.epoch(epoch) where !batch.labels.isEmpty {
                let input = try prefix?.run(batch.images) ?? batch.images
                tuner.beta1 = cycle.beta1(step)
                let scale = cycle.scale(step)
                let result = try tuner.step(input, labels: batch.labels, learningRates: rates.map { $0 * scale })
                correct += result.correct
                seen += batch.labels.count
                lossSum += Double(result.loss) * Double(batch.labels.count)
                history.iterations.append(IterationRecord(
                    epoch: history.epochs.count, iteration: history.iterations.count, batchSize: batch.labels.count,
                    loss: result.loss, runningAccuracy: Double(correct) / Double(seen)))
                step += 1
                task.advance(1, note: String(format: "epoch %d/%d, running accuracy %.3f", epoch + 1,
                                             options.fineTuneEpochs, Double(correct) / Double(seen)))
            }
            guard seen > 0 else { throw TrainingError.empty("fine-tuning epoch \(epoch + 1) had no training samples") }
            history.epochs.append(EpochSummary(
                epoch: history.epochs.count, samples: seen, meanLoss: lossSum / Double(seen),
                accuracy: Double(correct) / Double(seen), seconds: Date().timeIntervalSince(start),
                checkpointed: true))
            try FineTuneCheckpoint(epochsDone: epoch + 1, snapshot: tuner.snapshot, history: history,
                                   identity: identity).save(to: checkpoint)
        }
        task.finish(note: String(format: "final running accuracy %.3f", history.epochs.last?.accuracy ?? 0))

        var weights = network.recipe.stateDict
        for (key, value) in tuner.trainable.stateDict {
            guard let old = weights[key], old.shape == value.shape else {
                throw KitError.badModel("fine-tuning",
                                        "trained parameter \(key) \(value.shape) is not in the backbone's weights")
            }
            weights[key] = value
        }
        let tuned = try Backbone.build(backbone.kind, weights: WeightStore(weights), inputSize: backbone.inputSize)
        let settings = FineTuneSettings(blocks: options.unfreezeBlocks, epochs: options.fineTuneEpochs,
                                        maxLearningRate: options.fineTuneLearningRate, groupLearningRates: rates,
                                        trainedArrays: trainable.arrays.values.count)
        let recipe = ModelRecipe(backbone: tuned, stateDict: weights, weightsFile: network.recipe.weightsFile,
                                 options: options, trainCount: network.recipe.trainCount,
                                 validationCount: network.recipe.validationCount, fineTune: settings)
        // The tuned network's extractions go to their own folder of the cache, keyed by its weights: the frozen
        // network's entries stay for the head training of a resumed run.
        let tunedCache = network.cache.map {
            FeatureCacheFile(dir: $0.dir.appendingPathComponent("tuned", isDirectory: true))
        }
        return TrainedNetwork(extractor: try makeExtractor(tuned), recipe: recipe, head: tuner.head,
                              history: history, cache: tunedCache,
                              cacheIdentity: ModelFile.tunedIdentity(file: network.recipe.weightsFile, weights: weights),
                              views: [])
    }
}
