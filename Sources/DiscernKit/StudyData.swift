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

    static func load(_ o: StudyOptions, needTest: Bool = true) throws -> StudyData {
        let root = URL(fileURLWithPath: o.data)
        guard FileManager.default.fileExists(atPath: root.path) else { throw KitError.missingFile(o.data, what: "data folder") }
        let trainDir = try subfolder(root, ["training_set", "train", "training"])
        let trainSet = try openFolder(trainDir.path)
        guard trainSet.classes.count >= 2 else {
            throw KitError.badData(trainDir.path, "needs at least two class folders, found \(trainSet.classes.count) (\(trainSet.classes.joined(separator: ", ")))")
        }
        var test: [ImageFolder.Sample] = [], skipped = trainSet.skipped
        if needTest {
            let testDir = try subfolder(root, ["test_set", "test", "val", "validation"])
            let testSet = try openFolder(testDir.path)
            guard testSet.classes == trainSet.classes else {
                throw KitError.badData(testDir.path, "classes \(testSet.classes) differ from the training classes \(trainSet.classes)")
            }
            test = testSet.samples; skipped += testSet.skipped
        }
        let (train, val) = split(trainSet.samples, classes: trainSet.classes.count, fraction: o.validationFraction, seed: o.seed)
        var unknown: [(String, [ImageFolder.Sample])] = []
        for dir in o.unknown {
            let samples = try looseImages(dir)
            unknown.append((URL(fileURLWithPath: dir).lastPathComponent, samples))
        }
        var shifted: [(String, [ImageFolder.Sample])] = []
        for dir in o.shifted {
            let set = try openFolder(dir)
            guard set.classes == trainSet.classes else {
                throw KitError.badData(dir, "--shifted needs the training classes as sub-folders (\(trainSet.classes.joined(separator: ", "))), " +
                                       "found \(set.classes.joined(separator: ", "))")
            }
            shifted.append((URL(fileURLWithPath: dir).lastPathComponent, set.samples)); skipped += set.skipped
        }
        return StudyData(classes: trainSet.classes, train: train, validation: val, test: test, unknown: unknown, shifted: shifted,
                         skipped: skipped)
    }

    static func subfolder(_ root: URL, _ names: [String]) throws -> URL {
        for n in names where FileManager.default.fileExists(atPath: root.appendingPathComponent(n).path) {
            return root.appendingPathComponent(n)
        }
        throw KitError.badData(root.path, "has none of the folders \(names.joined(separator: ", ")) (expected training_set/ and test_set/ image folders)")
    }

    static func openFolder(_ path: String) throws -> ImageFolder {
        do { return try ImageFolder(root: path) } catch { throw KitError.badData(path, "\(error)") }
    }

    /// Stratified, seeded hold-out: `fraction` of each class (at least one image when it has 5+).
    static func split(_ s: [ImageFolder.Sample], classes: Int, fraction: Double, seed: UInt64)
        -> ([ImageFolder.Sample], [ImageFolder.Sample]) {
        guard fraction > 0 else { return (s, []) }
        var rng = SplitMix64(seed: seed, 0x5A11D)
        var train: [ImageFolder.Sample] = [], val: [ImageFolder.Sample] = []
        for c in 0..<classes {
            var idx = s.indices.filter { s[$0].label == c }
            for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, rng.int(0, i + 1)) }
            let n = idx.count >= 5 ? max(1, Int((Double(idx.count) * fraction).rounded())) : 0
            val += idx.prefix(n).sorted().map { s[$0] }
            train += idx.dropFirst(n).map { s[$0] }
        }
        train.sort { $0.path < $1.path }
        return (train, val)
    }

    /// An unknown set: images anywhere below `dir` (class folders or flat), label -1.
    static func looseImages(_ dir: String) throws -> [ImageFolder.Sample] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { throw KitError.missingFile(dir, what: "folder of unknown images") }
        var out: [ImageFolder.Sample] = []
        while let rel = e.nextObject() as? String {
            let ext = (rel as NSString).pathExtension.lowercased()
            let base = (rel as NSString).lastPathComponent
            if ImageFolder.imageExtensions.contains(ext) && !base.hasPrefix(".") && !base.hasPrefix("_") {
                out.append(ImageFolder.Sample(path: dir + "/" + rel, label: -1))
            }
        }
        guard !out.isEmpty else { throw KitError.badData(dir, "holds no .jpg/.jpeg/.png images") }
        return out.sorted { $0.path < $1.path }
    }
}
