import Foundation

/// `discern merge`: the JSONL files of a job's shards as one file in input order. Each shard file is already in
/// index order, so the files are merged line by line (memory stays flat); an index seen twice, a gap, or a torn
/// last line stops the merge and nothing is written.
public enum ShardMerge {
    public struct Summary: Sendable {
        public var lines: Int
        public var failures: Int
    }

    /// `expected`: the number of paths in the input stream, when known (a gap at the end is caught only then).
    public static func merge(_ inputs: [String], into out: String, expected: Int? = nil) throws -> Summary {
        guard !inputs.isEmpty else { throw KitError.invalid("merge needs at least one shard file") }
        var readers: [LineReader] = []
        // Each file's next line and its index; nil once the file is done.
        var heads: [(index: Int, line: ArraySlice<UInt8>)?] = []
        var lineNumbers = [Int](repeating: 0, count: inputs.count)
        func advance(_ file: Int) throws {
            guard let (line, terminated) = readers[file].nextLine() else {
                heads[file] = nil
                return
            }
            lineNumbers[file] += 1
            guard terminated else {
                throw KitError.badData(inputs[file],
                                       "torn last line (the shard was killed): run it again with --resume")
            }
            guard let index = ScoreLines.index(of: line) else {
                throw KitError.badData(inputs[file],
                                       "line \(lineNumbers[file]) is not a JSON line with an \"index\"")
            }
            if let previous = heads[file]?.index, index <= previous {
                throw KitError.badData(inputs[file], "line \(lineNumbers[file]): index \(index) after \(previous) ("
                                       + (index == previous ? "a repeated line" : "out of order") + ")")
            }
            heads[file] = (index, line)
        }
        for path in inputs {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw KitError.missingFile(path, what: "shard file")
            }
            readers.append(LineReader(handle: handle))
            heads.append(nil)
        }
        for file in inputs.indices { try advance(file) }

        let temporary = out + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let writer = FileHandle(forWritingAtPath: temporary) else {
            throw KitError.invalid("\(out): cannot write the merged file")
        }
        var summary = Summary(lines: 0, failures: 0)
        var missing: [ClosedRange<Int>] = []
        var nextIndex = 0
        var block = Data()
        do {
            while let (file, head) = heads.enumerated()
                .compactMap({ file, head in head.map { (file, $0) } })
                .min(by: { $0.1.index < $1.1.index }) {
                let (index, line) = head
                if index < nextIndex {
                    let other = heads.indices.first { $0 != file && heads[$0]?.index == index }
                    throw KitError.badData(inputs[file], "index \(index) is also in "
                                           + (other.map { inputs[$0] } ?? "an earlier line"))
                }
                if index > nextIndex { missing.append(nextIndex ... index - 1) }
                block.append(contentsOf: line)
                block.append(UInt8(ascii: "\n"))
                if line.contains(subsequence: Array("\"error\":".utf8)) { summary.failures += 1 }
                summary.lines += 1
                nextIndex = index + 1
                if block.count >= 1 << 20 {
                    try writer.write(contentsOf: block)
                    block.removeAll(keepingCapacity: true)
                }
                try advance(file)
            }
            if let expected, nextIndex < expected { missing.append(nextIndex ... expected - 1) }
            if let expected, nextIndex > expected {
                throw KitError.invalid("index \(nextIndex - 1) is beyond the expected \(expected) paths")
            }
            guard missing.isEmpty else {
                let shown = missing.prefix(5).map {
                    $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)–\($0.upperBound)"
                }
                throw KitError.invalid("missing indices \(shown.joined(separator: ", "))"
                                       + (missing.count > 5 ? ", …" : "")
                                       + " (\(missing.map(\.count).reduce(0, +)) paths): a shard did not finish; "
                                       + "run it again with --resume")
            }
            try writer.write(contentsOf: block)
            try writer.close()
        } catch {
            try? writer.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, out) == 0 else {
            let reason = String(cString: strerror(errno))
            throw KitError.invalid("\(out): cannot move the merged file into place (\(reason))")
        }
        return summary
    }
}

extension ArraySlice where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        var start = startIndex
        while start <= endIndex - needle.count {
            if self[start ..< start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
