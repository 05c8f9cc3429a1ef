import Foundation
import DiscernEngine
import DiscernWeights
import DiscernModels
import DiscernTraining
import DiscernRobustness

/// Everything about a trained model that is not a tensor; stored as JSON in the safetensors metadata.
public struct ModelMetadata: Codable, Sendable {
    /// 2: the two-question verdict (`rule`), the newer detectors, the kNN bank in single precision.
    public static let currentVersion = 2
    public var format = "discern-model"
    public var version = ModelMetadata.currentVersion
    public var backbone: String
    public var classes: [String]
    public var mean: [Float]
    public var std: [Float]
    public var imageSize: Int
    public var training: TrainingSettings
    /// How scores become a verdict (two questions, or the study's single score); per-score calibrated thresholds
    /// beside it.
    public var rule: VerdictRule?
    public var thresholds: [OODScoreKind: Double] = [:]
    public var scoreChoice: String?
    public var metrics: [String: Double] = [:]

    public struct TrainingSettings: Codable, Sendable {
        public var config: TrainingConfig
        public var augmentViews: Int
        public var trainImages: Int
        public var validationImages: Int
        public var weightsFile: String?
        public var createdAt: String
        /// Present when blocks of the backbone were fine-tuned (their weights are in the file).
        public var fineTune: FineTuneSettings? = nil
        /// `StudyOptions.degradation`; absent in files written before it existed (0, the study's augmentation).
        public var degradation: Double? = nil
    }
}

/// One self-contained safetensors file: backbone (torchvision/efficientnet names under `backbone.`),
/// head (`head.weight`, `head.bias`), OOD statistics (`ood.*`, F64) and `ModelMetadata` as JSON.
public struct ModelFile: Sendable {
    public var metadata: ModelMetadata
    public var backboneWeights: [String: Tensor]
    public var head: LinearParams
    public var detector: OODDetector?

    public init(metadata: ModelMetadata, backboneWeights: [String: Tensor], head: LinearParams,
                detector: OODDetector?) {
        self.metadata = metadata
        self.backboneWeights = backboneWeights
        self.head = head
        self.detector = detector
    }

    /// Written through a temporary file and a rename: a crash never leaves a half-written model.
    public func save(to url: URL) throws {
        var tensors = head.namedTensors(prefix: "head")
        for (key, tensor) in backboneWeights { tensors["backbone." + key] = tensor }
        var doubles: [String: DoubleArray] = [:]
        var fileMetadata = ["discern": String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)]
        if let detector {
            let (arrays, json) = try detector.exportArrays()
            for (key, matrix) in arrays {
                if OODDetector.singlePrecisionArrays.contains(key) {
                    tensors["ood." + key] = Tensor(shape: [matrix.rows, matrix.cols],
                                                   data: matrix.values.map(Float.init))
                } else {
                    doubles["ood." + key] = DoubleArray(shape: [matrix.rows, matrix.cols], values: matrix.values)
                }
            }
            fileMetadata["ood"] = json
        }
        try SafeTensors.write(SafeTensors.File(tensors: tensors, metadata: fileMetadata), doubles: doubles, to: url)
    }

    public static func load(_ url: URL) throws -> ModelFile {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw KitError.missingFile(path, what: "model file") }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw KitError.unreadable(path, "\(error.localizedDescription)")
        }
        let file = try SafeTensors.decode(bytes, name: path)
        guard let json = file.metadata["discern"] else {
            throw KitError.badModel(path, "not a Discern model (no 'discern' metadata); train one with `discern train`")
        }
        // Format and version first, so a file from another version says so rather than failing to parse.
        struct Header: Decodable {
            var format: String?
            var version: Int?
        }
        let header = try? JSONDecoder().decode(Header.self, from: Data(json.utf8))
        guard header?.format == "discern-model" else {
            throw KitError.badModel(path, "not a Discern model file (format '\(header?.format ?? "?")')")
        }
        guard let version = header?.version, version == ModelMetadata.currentVersion else {
            let found = header?.version.map(String.init) ?? "?"
            throw KitError.badModel(path, "model file version \(found) is not the version this Discern reads "
                                    + "(\(ModelMetadata.currentVersion)); retrain it with this version")
        }
        let metadata: ModelMetadata
        do {
            metadata = try JSONDecoder().decode(ModelMetadata.self, from: Data(json.utf8))
        } catch {
            throw KitError.badModel(path, "its metadata does not parse (\(error))")
        }
        var backbone: [String: Tensor] = [:]
        for (key, tensor) in file.tensors where key.hasPrefix("backbone.") {
            backbone[String(key.dropFirst("backbone.".count))] = tensor
        }
        let head = try LinearParams(namedTensors: file.tensors, prefix: "head")
        var detector: OODDetector?
        if let oodJSON = file.metadata["ood"] {
            let doubles = try SafeTensors.decodeF64(bytes, name: path)
            var arrays: [String: Matrix] = [:]
            for (key, array) in doubles where key.hasPrefix("ood.") && array.shape.count == 2 {
                arrays[String(key.dropFirst("ood.".count))] = try Matrix(rows: array.shape[0], cols: array.shape[1],
                                                                         values: array.values)
            }
            // The arrays stored in single precision.
            for (key, tensor) in file.tensors where key.hasPrefix("ood.") && tensor.rank == 2 && doubles[key] == nil {
                arrays[String(key.dropFirst("ood.".count))] = try Matrix(rows: tensor.shape[0], cols: tensor.shape[1],
                                                                         values: tensor.data.map(Double.init))
            }
            detector = try OODDetector(arrays: arrays, metadata: oodJSON)
        }
        return ModelFile(metadata: metadata, backboneWeights: backbone, head: head, detector: detector)
    }

    public var backboneKind: BackboneKind {
        get throws {
            guard let kind = BackboneKind(rawValue: metadata.backbone) else {
                throw KitError.badModel("model", "unknown backbone '\(metadata.backbone)'")
            }
            return kind
        }
    }

    /// The backbone, rebuilt from the stored (ImageNet or fine-tuned) weights (every key and shape checked).
    public func makeBackbone() throws -> Backbone {
        try Backbone.build(try backboneKind, weights: WeightStore(backboneWeights), inputSize: metadata.imageSize)
    }
}
