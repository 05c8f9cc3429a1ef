import Foundation
import DiscernEngine
import ZIPFoundation

/// Zip format (torch >= 1.6): `<prefix>/data.pkl` plus one `<prefix>/data/<key>` entry per storage.
/// The archive is checked before anything is extracted: no traversal or absolute names, no links,
/// no nested archives, no entry claiming more bytes than the file (stored) or a bomb-like ratio
/// (compressed), and no entries sharing bytes; extraction stops at each entry's declared size.
enum PyTorchZip {
    static let ratioLimit: UInt64 = 100
    static let smallEntry: UInt64 = 1 << 20
    static let entryLimit = 1 << 20
    static let nestedSuffixes = [
        ".zip", ".pth", ".pt", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".jar", ".whl", ".npz", ".pkl.gz"
    ]

    /// In-memory bytes go through a temporary file: ZIPFoundation's in-memory backing traps on
    /// offsets past the end, while its FILE* backing reports them as errors.
    static func decode(_ data: Data, name: String) throws -> [String: Tensor] {
        try ZipPrecheck.check(data, name: name)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("discern-\(UUID().uuidString).zip")
        do { try data.write(to: tmp) } catch {
            throw WeightsError.malformed(
                file: name, reason: "cannot stage the archive (\((error as NSError).localizedDescription))")
        }
        defer { try? FileManager.default.removeItem(at: tmp) }
        return try open(tmp, fileSize: data.count, name: name)
    }

    /// `data` is the file's content at `url` (already read to recognise the format).
    static func load(_ url: URL, data: Data, name: String) throws -> [String: Tensor] {
        try ZipPrecheck.check(data, name: name)
        return try open(url, fileSize: data.count, name: name)
    }

    private static func open(_ url: URL, fileSize size: Int, name: String) throws -> [String: Tensor] {
        func bad(_ reason: String) -> WeightsError { .malformed(file: name, reason: reason) }
        func refused(_ reason: String) -> WeightsError { .refused(file: name, reason: reason) }
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw bad("unreadable zip archive (\(error))")
        }
        let fileSize = UInt64(size)
        var entries: [String: Entry] = [:]
        var compressedTotal: UInt64 = 0, uncompressedTotal: UInt64 = 0
        for entry in archive {
            let path = entry.path
            guard entries.count < entryLimit else { throw refused("more than \(entryLimit) zip entries") }
            try checkName(path, name: name)
            guard entry.type != .symlink else { throw refused("zip entry '\(path)' is a link") }
            guard entry.type == .file else { continue }
            let lower = path.lowercased()
            if nestedSuffixes.contains(where: { lower.hasSuffix($0) }) {
                throw refused("zip entry '\(path)' is a nested archive")
            }
            let compressed = entry.compressedSize
            let uncompressed = entry.uncompressedSize
            guard compressed <= fileSize else {
                throw refused("zip entry '\(path)' claims \(compressed) bytes, more than the file (\(fileSize))")
            }
            if entry.isCompressed {
                let (cap, overflow) = compressed.multipliedReportingOverflow(by: ratioLimit)
                guard uncompressed <= max(smallEntry, overflow ? .max : cap) else {
                    throw refused("zip entry '\(path)' claims \(uncompressed) bytes from \(compressed) compressed "
                                  + "(over \(ratioLimit)x: a zip bomb?)")
                }
            } else {
                guard uncompressed == compressed, uncompressed <= fileSize else {
                    throw refused("zip entry '\(path)' claims \(uncompressed) bytes, more than the file (\(fileSize))")
                }
            }
            compressedTotal += compressed
            guard compressedTotal <= fileSize else {
                throw refused("zip entries overlap (their sizes add up past the file)")
            }
            uncompressedTotal += uncompressed
            guard uncompressedTotal <= 2 * fileSize + (64 << 20) else {
                throw refused(
                    "zip entries claim \(uncompressedTotal) bytes in all, far more than the file (\(fileSize))")
            }
            guard entries.updateValue(entry, forKey: path) == nil else {
                throw refused("zip entry '\(path)' appears twice")
            }
        }
        let pickles = entries.keys.filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2 }
        guard pickles.count == 1, let pkl = pickles.first else {
            if pickles.isEmpty { throw bad("zip archive without data.pkl (not a PyTorch checkpoint)") }
            throw refused("zip archive holds \(pickles.count) data.pkl records")
        }
        let prefix = String(pkl.dropLast("data.pkl".count))
        if let bo = entries[prefix + "byteorder"] {
            let order = String(decoding: try extract(archive, bo, name: name), as: UTF8.self)
            guard order.trimmingCharacters(in: .whitespacesAndNewlines) == "little" else {
                throw bad("byte order '\(order.prefix(16))' is not supported")
            }
        }
        let pickle = try extract(archive, entries[pkl]!, name: name)
        guard pickle.first == 0x80 else { throw bad("data.pkl is not a binary pickle") }
        let refs = try pickle.withUnsafeBytes { raw -> [(String, TensorRef)] in
            let vm = PickleVM(bytes: raw, file: name, fileSize: size)
            let (root, _) = try vm.run(from: 0)
            return try PyTorchCheckpoint.stateDict(root, name: name)
        }
        var storages: [String: Data] = [:]
        for (_, ref) in refs where storages[ref.storage.key] == nil {
            let key = ref.storage.key
            guard !key.contains("/"), let entry = entries[prefix + "data/" + key] else {
                throw bad("storage '\(key)' has no data/\(key) record")
            }
            storages[key] = try extract(archive, entry, name: name)
        }
        // Pointers into `storages` stay valid: the dictionary is not mutated while they are used.
        return try materialiseAll(refs, storages, name: name)
    }

    private static func materialiseAll(_ refs: [(String, TensorRef)], _ storages: [String: Data], name: String) throws
        -> [String: Tensor]
    {
        var out: [String: Tensor] = [:]
        for (key, ref) in refs {
            let decoded = storages[ref.storage.key]!.withUnsafeBytes { StorageDecode.tensor(ref, root: $0) }
            guard let tensor = decoded else {
                throw WeightsError.malformed(
                    file: name, reason: "tensor '\(key)' reaches past the bytes of storage '\(ref.storage.key)'")
            }
            out[key] = tensor
        }
        return out
    }

    /// Entry names are only looked up, never written, but a checkpoint with such names is not one torch made.
    static func checkName(_ path: String, name: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.hasPrefix("/") || path.hasPrefix("\\") || path.contains("\\") || path.contains("\0")
            || parts.contains("..") || (path.count > 1 && path.dropFirst().hasPrefix(":")) {
            throw WeightsError.refused(file: name, reason: "zip entry name '\(path.prefix(80))' escapes the archive")
        }
    }

    /// The entry's bytes, never more than it declared (a lying header cannot inflate past it).
    static func extract(_ archive: Archive, _ entry: Entry, name: String) throws -> Data {
        let limit = Int(entry.uncompressedSize)
        var out = Data()
        out.reserveCapacity(min(limit, 64 << 20))  // the declared size is not trusted for allocation
        let crc: CRC32
        do {
            crc = try archive.extract(entry, skipCRC32: false) { chunk in
                guard chunk.count <= limit - out.count else { throw Archive.ArchiveError.invalidEntrySize }
                out.append(chunk)
            }
        } catch {
            throw WeightsError.malformed(file: name, reason: "zip entry '\(entry.path)' cannot be read (\(error))")
        }
        guard out.count == limit else {
            throw WeightsError.malformed(file: name, reason: "zip entry '\(entry.path)' is truncated")
        }
        guard crc == entry.checksum else {
            throw WeightsError.malformed(file: name, reason: "zip entry '\(entry.path)' fails its CRC check")
        }
        return out
    }
}
