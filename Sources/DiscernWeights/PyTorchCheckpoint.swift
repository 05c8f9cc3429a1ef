import Foundation
import DiscernEngine

/// PyTorch `.pth`/`.pt`/`.bin` checkpoints, read without Python and without running any of the
/// pickle's code: the zip format (torch >= 1.6) and the legacy format (consecutive pickles, then the
/// raw storages). Returns the state_dict's tensors as Float, found at the top level or under
/// "state_dict"/"model".
public enum PyTorchCheckpoint {
    public static func load(_ url: URL) throws -> [String: Tensor] {
        let data = try readWhole(url)
        if isZip(data) { return try PyTorchZip.load(url, data: data, name: url.path) }
        return try decode(data, name: url.path)
    }

    static func isZip(_ data: Data) -> Bool { data.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    public static func decode(_ data: Data, name: String) throws -> [String: Tensor] {
        if isZip(data) { return try PyTorchZip.decode(data, name: name) }
        if data.first == 0x80 {
            return try data.withUnsafeBytes { try PyTorchLegacy.decode($0, name: name) }
        }
        if data.count > 262, data[data.startIndex + 257..<data.startIndex + 262].elementsEqual("ustar".utf8) {
            throw WeightsError.malformed(
                file: name, reason: "tar checkpoints of torch < 0.4 are not supported; re-save with a newer torch")
        }
        throw WeightsError.malformed(
            file: name, reason: "not a PyTorch checkpoint (neither a zip archive nor a pickle)")
    }

    static func readWhole(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw WeightsError.malformed(
                file: url.path, reason: "cannot read (\((error as NSError).localizedDescription))")
        }
    }

    /// The (name, tensor) pairs of the state_dict inside an unpickled checkpoint.
    static func stateDict(_ root: PyValue, name: String) throws -> [(String, TensorRef)] {
        guard case let .dict(top) = root else {
            throw WeightsError.malformed(
                file: name, reason: "checkpoint holds a \(root.kindName), not a dict of tensors")
        }
        func tensors(_ dict: PyDict) -> [(String, TensorRef)] {
            dict.pairs.compactMap { pair in
                guard case let .string(key) = pair.key, case let .tensor(tensor) = pair.value else { return nil }
                return (key, tensor)
            }
        }
        for key in ["state_dict", "model"] {
            if case let .dict(inner)? = top[key] {
                let found = tensors(inner)
                if !found.isEmpty { return found }
            }
        }
        let found = tensors(top)
        guard !found.isEmpty else {
            let keys = top.pairs.prefix(8).map { pair -> String in
                if case let .string(key) = pair.key { return key.count > 40 ? String(key.prefix(40)) + "…" : key }
                return pair.key.kindName
            }
            throw WeightsError.malformed(
                file: name, reason: "no tensors found (top-level keys: \(keys.joined(separator: ", ")))")
        }
        return found
    }

    /// Materialises every tensor; `storage(key)` returns the raw bytes of a root storage.
    static func materialise(_ refs: [(String, TensorRef)], name: String,
                            storage: (String) throws -> UnsafeRawBufferPointer) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        out.reserveCapacity(refs.count)
        for (key, ref) in refs {
            guard let tensor = StorageDecode.tensor(ref, root: try storage(ref.storage.key)) else {
                throw WeightsError.malformed(
                    file: name, reason: "tensor '\(key)' reaches past the bytes of storage '\(ref.storage.key)'")
            }
            out[key] = tensor
        }
        return out
    }
}

/// Legacy format (torch < 1.6): magic-number, protocol and sys-info pickles, the main pickle, the
/// storage-key pickle, then each storage as a u64 element count and its raw bytes, in key order.
enum PyTorchLegacy {
    /// 0x1950a86a20f9469cfc6c, little-endian, as LONG1 pickles it.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    static func decode(_ raw: UnsafeRawBufferPointer, name: String) throws -> [String: Tensor] {
        func bad(_ reason: String) -> WeightsError { .malformed(file: name, reason: reason) }
        let vm = PickleVM(bytes: raw, file: name, fileSize: raw.count)
        var (value, pos) = try vm.run(from: 0)
        guard case let .bigInt(number) = value, number == magic else {
            throw bad("a pickle without PyTorch's magic number")
        }
        (value, pos) = try vm.run(from: pos)
        guard case let .int(proto) = value, proto == 1001 else { throw bad("unknown legacy protocol version") }
        (value, pos) = try vm.run(from: pos)
        if case let .dict(info) = value, case .bool(false)? = info["little_endian"] {
            throw bad("big-endian checkpoints are not supported")
        }
        let (root, afterMain) = try vm.run(from: pos)
        let refs = try PyTorchCheckpoint.stateDict(root, name: name)
        let (keyList, dataStart) = try vm.run(from: afterMain)
        guard case let .list(keys) = keyList else { throw bad("storage key list is a \(keyList.kindName)") }

        var ranges: [String: Range<Int>] = [:]
        var at = dataStart
        for item in keys.items {
            guard case let .string(key) = item, let decl = vm.storages[key] else {
                throw bad("storage key list names an undeclared storage")
            }
            guard ranges[key] == nil else { throw bad("storage '\(key)' is listed twice") }
            guard raw.count - at >= 8 else { throw bad("file ends before storage '\(key)'") }
            let elements = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            guard elements == UInt64(decl.count) else {
                throw bad("storage '\(key)' holds \(elements) elements, the pickle declared \(decl.count)")
            }
            let bytes = decl.count * decl.dtype.size  // no overflow: the unpickler bounded it by the file size
            guard bytes <= raw.count - at - 8 else {
                throw WeightsError.refused(
                    file: name, reason: "storage '\(key)' needs \(bytes) bytes, past the end of the file")
            }
            ranges[key] = at + 8 ..< at + 8 + bytes
            at += 8 + bytes
        }
        return try PyTorchCheckpoint.materialise(refs, name: name) { key in
            guard let range = ranges[key] else { throw bad("storage '\(key)' is missing from the storage list") }
            return UnsafeRawBufferPointer(rebasing: raw[range])
        }
    }
}
