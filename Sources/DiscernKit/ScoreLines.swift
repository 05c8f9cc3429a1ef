import Foundation

/// The JSONL output of a batch job: one line per image, written and handed to the kernel as soon as the image is
/// scored, so a killed job loses at most the line being written. Every line carries `index`, the image's number in
/// the input path stream; an image that could not be scored has an `error` line instead of the prediction's fields.
public final class ScoreLines {
    public let path: String
    /// Indices already in the file when it was opened with `resume`.
    public private(set) var done = Set<Int>()
    private let handle: FileHandle

    /// Without `resume` the file must not exist yet (appending would repeat lines); with it, the lines present are
    /// kept and a torn last line (a kill in the middle of a write) is cut off, to be scored again.
    public init(path: String, resume: Bool) throws {
        self.path = path
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            guard resume else {
                throw KitError.invalid("\(path) already exists: pass --resume to continue it, or remove it")
            }
            guard let reader = FileHandle(forReadingAtPath: path) else {
                throw KitError.unreadable(path, "permission denied")
            }
            let scan = try ScoreLines.scan(LineReader(handle: reader), path: path)
            try reader.close()
            done = scan.indices
            guard let writer = FileHandle(forWritingAtPath: path) else {
                throw KitError.unreadable(path, "cannot write")
            }
            handle = writer
            try handle.truncate(atOffset: scan.completeBytes)
            if scan.tornLine { ScoreLines.log("\(path): dropped a torn last line; that image is scored again") }
        } else {
            guard fm.createFile(atPath: path, contents: nil), let writer = FileHandle(forWritingAtPath: path) else {
                throw KitError.invalid("\(path): cannot write the JSONL output")
            }
            handle = writer
        }
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    public func write(_ prediction: Prediction, index: Int) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let object = try encoder.encode(prediction)
        // `index` first, then the prediction's own fields, as `--json` writes them.
        var line = Data("{\"index\":\(index),".utf8)
        line.append(object.dropFirst())
        try append(line)
    }

    public func write(failure: String, path imagePath: String, index: Int) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try append(try encoder.encode(FailureLine(index: index, path: imagePath, error: failure)))
    }

    /// One write(2) per line: the line is in the kernel's hands when this returns, safe from a SIGKILL.
    private func append(_ line: Data) throws {
        var bytes = line
        bytes.append(UInt8(ascii: "\n"))
        try handle.write(contentsOf: bytes)
    }

    struct FailureLine: Codable {
        var index: Int
        var path: String
        var error: String
    }

    /// Only the index of a line.
    struct IndexField: Decodable { var index: Int }

    static func index(of line: ArraySlice<UInt8>) -> Int? {
        try? JSONDecoder().decode(IndexField.self, from: Data(line)).index
    }

    /// The complete lines' indices and byte length; a last line without its newline is torn.
    static func scan(_ reader: LineReader, path: String) throws
        -> (indices: Set<Int>, completeBytes: UInt64, tornLine: Bool) {
        var indices = Set<Int>()
        var bytes: UInt64 = 0
        var number = 0
        while let (line, terminated) = reader.nextLine() {
            number += 1
            guard terminated else { return (indices, bytes, true) }
            guard let lineIndex = index(of: line) else {
                throw KitError.badData(path, "line \(number) is not a JSON line with an \"index\"")
            }
            indices.insert(lineIndex)
            bytes += UInt64(line.count + 1)
        }
        return (indices, bytes, false)
    }

    static func log(_ line: String) { FileHandle.standardError.write(Data("discern: \(line)\n".utf8)) }
}
