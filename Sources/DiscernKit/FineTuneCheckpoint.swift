import Foundation
import DiscernEngine
import DiscernTraining
import DiscernWeights

/// The state of `--fine-tune` after its last finished epoch, in `<out>/checkpoints/fine-tune.safetensors`: the
/// trained arrays, the head, Adam's moments and the history so far. Written atomically after every epoch, so a
/// killed run keeps every finished epoch and `--resume` continues from there with the same result as a run that
/// was never stopped (each epoch's batches and augmentations depend only on the seed and the epoch number).
struct FineTuneCheckpoint {
    static let fileName = "fine-tune.safetensors"

    var epochsDone: Int
    var snapshot: FineTuner.Snapshot
    /// The whole history so far: the head's epochs, then the finished fine-tuning epochs.
    var history: TrainingHistory
    /// What must be equal for the checkpoint to belong to this run (`identity(options:...)`).
    var identity: String

    /// Everything that decides the fine-tuning's result; a checkpoint made with anything else is not resumed.
    static func identity(options: StudyOptions, backbone: String, trainPaths: [String], batchesPerEpoch: Int) -> String {
        // FNV-1a over the training paths in order: another split or data set gives another identity.
        var hash = FNV1a()
        hash.add(trainPaths.joined(separator: "\n"))
        return [backbone, options.unfreezeBlocks.map(String.init) ?? "all", String(options.fineTuneEpochs),
                String(options.fineTuneLearningRate), String(options.seed), String(options.batchSize),
                String(options.degradation), String(trainPaths.count), hash.hex,
                String(batchesPerEpoch)].joined(separator: "|")
    }

    func save(to url: URL) throws {
        var tensors: [String: Tensor] = ["head.weight": snapshot.head.weight, "head.bias": snapshot.head.bias]
        for (prefix, arrays) in [("array", snapshot.arrays), ("adam.m", snapshot.optimizer.firstMoments),
                                 ("adam.v", snapshot.optimizer.secondMoments)] {
            for (index, values) in arrays.enumerated() {
                tensors["\(prefix).\(index)"] = Tensor(shape: [values.count], data: values)
            }
        }
        let metadata = [
            "identity": identity, "epochs_done": String(epochsDone), "arrays": String(snapshot.arrays.count),
            "adam_step": String(snapshot.optimizer.step),
            "adam_moments": String(snapshot.optimizer.firstMoments.count),
            "history": String(decoding: try JSONEncoder().encode(history), as: UTF8.self),
        ]
        try SafeTensors.write(SafeTensors.File(tensors: tensors, metadata: metadata), to: url)
    }

    /// The checkpoint at `url` when it is there, whole and made by a run with `identity`; nil otherwise (the
    /// reason is returned for the log).
    static func load(_ url: URL, identity: String) -> (checkpoint: FineTuneCheckpoint?, reason: String?) {
        guard FileManager.default.fileExists(atPath: url.path) else { return (nil, nil) }
        guard let file = try? SafeTensors.read(url) else { return (nil, "it cannot be read") }
        let meta = file.metadata
        guard meta["identity"] == identity else {
            return (nil, "it was made with other fine-tuning options or data")
        }
        guard let done = meta["epochs_done"].flatMap(Int.init), let arrays = meta["arrays"].flatMap(Int.init),
              let step = meta["adam_step"].flatMap(Int.init), let moments = meta["adam_moments"].flatMap(Int.init),
              let historyJSON = meta["history"],
              let history = try? JSONDecoder().decode(TrainingHistory.self, from: Data(historyJSON.utf8)),
              let weight = file.tensors["head.weight"], let bias = file.tensors["head.bias"],
              let head = try? LinearParams(weight: weight, bias: bias) else {
            return (nil, "its metadata is incomplete")
        }
        func arraysNamed(_ prefix: String, _ count: Int) -> [[Float]]? {
            let found = (0..<count).compactMap { file.tensors["\(prefix).\($0)"]?.data }
            return found.count == count ? found : nil
        }
        guard let values = arraysNamed("array", arrays), let first = arraysNamed("adam.m", moments),
              let second = arraysNamed("adam.v", moments) else {
            return (nil, "some of its arrays are missing")
        }
        let snapshot = FineTuner.Snapshot(
            arrays: values, head: head,
            optimizer: Adam.State(step: step, firstMoments: first, secondMoments: second))
        return (FineTuneCheckpoint(epochsDone: done, snapshot: snapshot, history: history, identity: identity), nil)
    }
}
