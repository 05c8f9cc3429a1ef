import Foundation
import DiscernVision

/// The image paths of a batch job, numbered in input order: the arguments first (a folder expands to its images,
/// recursively, sorted), then the lines of a list file or standard input, read as they come so a list of a million
/// paths is never held in memory. A path that is not there is yielded like any other: scoring reports it. Only the
/// paths of `shard` are yielded, each with its number in the whole stream.
public final class PathStream: Sequence, IteratorProtocol {
    public struct Item: Sendable, Equatable {
        public let index: Int
        public let path: String
    }

    private var arguments: [String]
    private var expanded: [String] = []
    private var lines: LineReader?
    private let shard: Shard
    private var position = 0

    /// `listFile` "-" is standard input.
    public init(arguments: [String], listFile: String?, shard: Shard) throws {
        self.arguments = arguments.reversed()
        self.shard = shard
        if let listFile {
            if listFile == "-" { lines = LineReader(handle: .standardInput) } else {
                guard let handle = FileHandle(forReadingAtPath: listFile) else {
                    throw KitError.missingFile(listFile, what: "path list (--paths-from)")
                }
                lines = LineReader(handle: handle)
            }
        }
    }

    public func next() -> Item? {
        while let path = nextPath() {
            defer { position += 1 }
            if shard.contains(position) { return Item(index: position, path: path) }
        }
        return nil
    }

    private func nextPath() -> String? {
        while true {
            if let path = expanded.popLast() { return path }
            if let argument = arguments.popLast() {
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder), isFolder.boolValue {
                    expanded = PathStream.images(in: argument).reversed()
                } else {
                    return argument
                }
                continue
            }
            while let line = lines?.next() {
                let path = line.trimmingCharacters(in: .whitespaces)
                if !path.isEmpty { return path }
            }
            return nil
        }
    }

    /// The images below `folder` (hidden and `_`-prefixed names left out), sorted by path; images in formats
    /// Discern does not read are listed too, so that scoring reports them. Linked folders are followed (mounted
    /// volumes are often links), each real folder once.
    static func images(in folder: String) -> [String] {
        let fm = FileManager.default
        var out: [String] = [], pending = [folder.hasSuffix("/") ? String(folder.dropLast()) : folder]
        var seen = Set<String>()
        while let dir = pending.popLast() {
            guard seen.insert((dir as NSString).resolvingSymlinksInPath).inserted,
                  let names = try? fm.contentsOfDirectory(atPath: dir) else { continue }
            for name in names where !name.hasPrefix(".") && !name.hasPrefix("_") {
                let path = dir + "/" + name
                var isFolder: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
                if isFolder.boolValue {
                    pending.append(path)
                } else if ImageFolder.listedExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    out.append(path)
                }
            }
        }
        return out.sorted()
    }
}

/// Lines of a file or pipe, read in blocks as they are needed.
final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false

    init(handle: FileHandle) { self.handle = handle }

    func next() -> String? { nextLine().map { String(decoding: $0.bytes, as: UTF8.self) } }

    /// The next line's bytes without its newline; `terminated` is false for a last line that has none.
    func nextLine() -> (bytes: ArraySlice<UInt8>, terminated: Bool)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = newline + 1 }
                return (buffer[start ..< newline], true)
            }
            if ended {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return (buffer[start...], false)
            }
            // Keep only the unfinished line before reading the next block.
            buffer.removeFirst(start)
            start = 0
            let block = handle.readData(ofLength: 1 << 16)
            if block.isEmpty { ended = true } else { buffer.append(contentsOf: block) }
        }
    }
}
