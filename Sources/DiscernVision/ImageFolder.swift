import DiscernEngine
import Foundation

/// An image that could not be used, with why (one line for reports).
public struct SkippedImage: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { reason.hasPrefix(path) ? "skipped \(reason)" : "skipped \(path): \(reason)" }
}

/// torchvision `ImageFolder`: classes are the sorted sub-folder names, samples every JPEG/PNG below them
/// (sorted, recursive). Accepts archive nesting such as `root/training_set/training_set/cats`. Non-image files
/// (`.DS_Store`, `_DS_Store`, text) are ignored; files that are not readable images, including images in other
/// formats (WebP, GIF, ... by their extension), are listed in `skipped`.
public struct ImageFolder: Sendable {
    public struct Sample: Sendable, Equatable {
        public let path: String
        public let label: Int
        public init(path: String, label: Int) {
            self.path = path
            self.label = label
        }
    }
    /// How much of each file to check up front: nothing, the header (size, format, dimensions), or a full decode.
    public enum Check: Sendable { case none, header, full }

    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]
    /// What a folder scan lists: the images read, and images in formats that are not, so that those are
    /// reported as skipped (with their format) instead of left out without a word.
    public static let listedExtensions = imageExtensions.union(OtherImageFormats.extensions)

    public let root: String      // the folder holding the class folders (after unwrapping nesting)
    public let classes: [String]
    public private(set) var samples: [Sample]
    public private(set) var skipped: [SkippedImage] = []

    public init(root: String, check: Check = .header, maxPixels: Int = ImageCodec.defaultMaxPixels) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw VisionError.invalidArgument("\(root): image folder not found")
        }
        var dir = URL(fileURLWithPath: root).standardizedFileURL
        var subdirs = try Self.subdirectories(dir)
        // Unwrap archive nesting: a lone folder that itself holds folders (root/training_set/training_set/cats).
        while subdirs.count == 1, try !Self.subdirectories(subdirs[0]).isEmpty {
            dir = subdirs[0]
            subdirs = try Self.subdirectories(dir)
        }
        self.root = dir.path
        classes = subdirs.map { $0.lastPathComponent }
        var found: [Sample] = []
        for (label, d) in subdirs.enumerated() {
            for path in Self.imageFiles(under: d) { found.append(Sample(path: path, label: label)) }
        }
        samples = found
        if check != .none { verify(full: check == .full, maxPixels: maxPixels) }
    }

    static func subdirectories(_ url: URL) throws -> [URL] {
        let items: [URL]
        do {
            items = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: [.isDirectoryKey])
        } catch {
            throw VisionError.unreadable(url.path, reason: "cannot list folder")
        }
        return items.filter {
            let name = $0.lastPathComponent
            return !name.hasPrefix(".") && name != "__MACOSX"
                && ((try? $0.resolvingSymlinksInPath().resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false)
                    == true
        }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func imageFiles(under dir: URL) -> [String] {
        guard let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey],
                                                         options: [.skipsHiddenFiles]) else { return [] }
        var out: [String] = []
        for case let url as URL in files {
            if url.lastPathComponent == "__MACOSX" {
                files.skipDescendants()
                continue
            }
            guard listedExtensions.contains(url.pathExtension.lowercased()),
                // Symlinked files count too (datasets are often linked, not copied).
                (try? url.resolvingSymlinksInPath().resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
            else { continue }
            out.append(url.path)
        }
        return out.sorted()
    }

    /// Drops samples that are not readable images, recording one `SkippedImage` each; checks run in parallel.
    public mutating func verify(full: Bool, maxPixels: Int = ImageCodec.defaultMaxPixels) {
        let count = samples.count
        var reasons = [String?](repeating: nil, count: count)
        let all = samples
        reasons.withUnsafeMutableBufferPointer { out in
            parallelForEach(count) { i in
                do {
                    if full { _ = try ImageCodec.decodeFile(all[i].path, maxPixels: maxPixels) }
                    else { _ = try ImageCodec.probeFile(all[i].path, maxPixels: maxPixels) }
                } catch {
                    out[i] = "\(error)"
                }
            }
        }
        var kept: [Sample] = []
        for i in 0..<count {
            if let reason = reasons[i] {
                skipped.append(SkippedImage(path: all[i].path, reason: reason))
            } else {
                kept.append(all[i])
            }
        }
        samples = kept
    }
}
