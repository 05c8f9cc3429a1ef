import Foundation
import DiscernEngine
import DiscernVision

/// The image folders of a run: training (minus a stratified validation split), test, unknown sets.
struct StudyData {
    var classes: [String]
    var train: [ImageFolder.Sample]
    var validation: [ImageFolder.Sample]
    var test: [ImageFolder.Sample]
    var unknown: [(name: String, samples: [ImageFolder.Sample])]
    var shifted: [(name: String, samples: [ImageFolder.Sample])] = []
    var skipped: [SkippedImage]

    static func load(_ options: StudyOptions, needTest: Bool = true) throws -> StudyData {
        let root = URL(fileURLWithPath: options.data)
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw KitError.missingFile(options.data, what: "data folder")
        }
        let trainFolder = try subfolder(root, ["training_set", "train", "training"])
        let trainSet = try openFolder(trainFolder.path)
        guard trainSet.classes.count >= 2 else {
            throw KitError.badData(trainFolder.path, "needs at least two class folders, found "
                                   + "\(trainSet.classes.count) (\(trainSet.classes.joined(separator: ", ")))")
        }
        try requireImagesInEveryClass(trainSet)
        var test: [ImageFolder.Sample] = []
        var skipped = trainSet.skipped
        if needTest {
            let testFolder = try subfolder(root, ["test_set", "test", "val", "validation"])
            let testSet = try openFolder(testFolder.path)
            guard testSet.classes == trainSet.classes else {
                throw KitError.badData(testFolder.path, "classes \(testSet.classes) differ from the training "
                                       + "classes \(trainSet.classes)")
            }
            test = testSet.samples
            skipped += testSet.skipped
        }
        let (train, validation) = split(trainSet.samples, classes: trainSet.classes.count,
                                        fraction: options.validationFraction, seed: options.seed)
        let unknown = try options.unknown.map { folder in
            (name: URL(fileURLWithPath: folder).lastPathComponent, samples: try looseImages(folder))
        }
        var shifted: [(name: String, samples: [ImageFolder.Sample])] = []
        for folder in options.shifted {
            let set = try openFolder(folder)
            guard set.classes == trainSet.classes else {
                throw KitError.badData(folder, "--shifted needs the training classes as sub-folders "
                                       + "(\(trainSet.classes.joined(separator: ", "))), found "
                                       + set.classes.joined(separator: ", "))
            }
            shifted.append((URL(fileURLWithPath: folder).lastPathComponent, set.samples))
            skipped += set.skipped
        }
        return StudyData(classes: trainSet.classes, train: train, validation: validation, test: test,
                         unknown: unknown, shifted: shifted, skipped: skipped)
    }

    /// A class with no readable training image cannot be learned: say which, and why its files were refused,
    /// before any work starts.
    static func requireImagesInEveryClass(_ folder: ImageFolder) throws {
        let labelsWithImages = Set(folder.samples.map(\.label))
        for (label, name) in folder.classes.enumerated() where !labelsWithImages.contains(label) {
            let classFolder = folder.root + "/" + name
            let refused = folder.skipped.filter { $0.path.hasPrefix(classFolder + "/") }
            let why = refused.first.map { " (\(refused.count) skipped, e.g. \($0.reason))" } ?? ""
            throw KitError.badData(classFolder, "holds no readable training image" + why)
        }
    }

    static func subfolder(_ root: URL, _ names: [String]) throws -> URL {
        for name in names where FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path) {
            return root.appendingPathComponent(name)
        }
        throw KitError.badData(root.path, "has none of the folders \(names.joined(separator: ", ")) "
                               + "(expected training_set/ and test_set/ image folders)")
    }

    static func openFolder(_ path: String) throws -> ImageFolder {
        do {
            return try ImageFolder(root: path)
        } catch {
            throw KitError.badData(path, "\(error)")
        }
    }

    /// Stratified, seeded hold-out: `fraction` of each class (at least one image when it has 5+).
    static func split(_ samples: [ImageFolder.Sample], classes: Int, fraction: Double, seed: UInt64)
        -> ([ImageFolder.Sample], [ImageFolder.Sample]) {
        guard fraction > 0 else { return (samples, []) }
        var rng = SplitMix64(seed: seed, 0x5A11D)
        var train: [ImageFolder.Sample] = []
        var validation: [ImageFolder.Sample] = []
        for label in 0..<classes {
            var indices = samples.indices.filter { samples[$0].label == label }
            // Fisher–Yates shuffle.
            for last in stride(from: indices.count - 1, to: 0, by: -1) {
                indices.swapAt(last, rng.int(0, last + 1))
            }
            let count = indices.count >= 5 ? max(1, Int((Double(indices.count) * fraction).rounded())) : 0
            validation += indices.prefix(count).sorted().map { samples[$0] }
            train += indices.dropFirst(count).map { samples[$0] }
        }
        train.sort { $0.path < $1.path }
        return (train, validation)
    }

    /// An unknown set: images anywhere below `folder` (class folders or flat), label -1.
    static func looseImages(_ folder: String) throws -> [ImageFolder.Sample] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw KitError.missingFile(folder, what: "folder of unknown images")
        }
        var images: [ImageFolder.Sample] = []
        while let relative = enumerator.nextObject() as? String {
            let fileExtension = (relative as NSString).pathExtension.lowercased()
            let base = (relative as NSString).lastPathComponent
            if ImageFolder.listedExtensions.contains(fileExtension) && !base.hasPrefix(".") && !base.hasPrefix("_") {
                images.append(ImageFolder.Sample(path: folder + "/" + relative, label: -1))
            }
        }
        guard images.contains(where: {
            ImageFolder.imageExtensions.contains(($0.path as NSString).pathExtension.lowercased())
        }) else {
            let others = images.isEmpty ? "" : " (\(images.count) in other formats; Discern reads JPEG and PNG only)"
            throw KitError.badData(folder, "holds no .jpg/.jpeg/.png images" + others)
        }
        return images.sorted { $0.path < $1.path }
    }
}
