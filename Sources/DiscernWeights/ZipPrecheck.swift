import Foundation

/// Walks a zip's end record, central directory, local headers and data descriptors the way
/// ZIPFoundation will, before ZIPFoundation sees the file. ZIPFoundation converts 64-bit sizes
/// and offsets with trapping arithmetic, so a forged ZIP64 field would crash the process; here
/// every such number must stay below `valueLimit`, which keeps all of its sums far from overflow.
/// Also refuses archives whose end record is missing (ZIPFoundation would scan the whole file).
enum ZipPrecheck {
    static let valueLimit: UInt64 = 1 << 48
    static let entryLimit = 1 << 20

    static func check(_ data: Data, name: String) throws {
        try data.withUnsafeBytes { raw in try check(raw, name: name) }
    }

    static func check(_ raw: UnsafeRawBufferPointer, name: String) throws {
        func refused(_ reason: String) -> WeightsError { .refused(file: name, reason: reason) }
        let size = UInt64(raw.count)
        func u16(_ at: UInt64) -> UInt64? {
            guard at + 2 <= size else { return nil }
            return UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: Int(at), as: UInt16.self)))
        }
        func u32(_ at: UInt64) -> UInt64? {
            guard at + 4 <= size else { return nil }
            return UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: Int(at), as: UInt32.self)))
        }
        func u64(_ at: UInt64) -> UInt64? {
            guard at + 8 <= size else { return nil }
            return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: Int(at), as: UInt64.self))
        }
        func bounded(_ value: UInt64?, _ what: String) throws {
            if let value, value >= valueLimit { throw refused("zip \(what) is \(value), beyond any real archive") }
        }

        // End of central directory: the first signature found scanning back from the end.
        guard size >= 22 else {
            throw WeightsError.malformed(file: name, reason: "zip archive shorter than its end record")
        }
        var endRecord: UInt64?
        var position = size - 22
        while true {
            if u32(position) == 0x0605_4B50 {
                endRecord = position
                break
            }
            if position == 0 || size - 22 - position >= 65_535 { break }
            position -= 1
        }
        guard let end = endRecord else {
            throw WeightsError.malformed(file: name, reason: "zip archive without an end record")
        }
        var entries = u16(end + 10)!
        var cdOffset = u32(end + 16)!
        // ZIP64: a locator just before the end record and a record at the fixed place before it.
        if end >= 20 + 56, u32(end - 20) == 0x0706_4B50, u32(end - 76) == 0x0606_4B50 {
            try bounded(u64(end - 20 + 8), "ZIP64 locator offset")
            for offset: UInt64 in [4, 24, 32, 40, 48] { try bounded(u64(end - 76 + offset), "ZIP64 end record field") }
            entries = u64(end - 76 + 32)!
            cdOffset = u64(end - 76 + 48)!
        }

        var index = cdOffset
        var count: UInt64 = 0
        while count < entries {
            guard u32(index) == 0x0201_4B50,
                  let cd = readHeader(at: index, central: true, u16: u16, u32: u32, u64: u64) else { break }
            count += 1
            guard count <= UInt64(entryLimit) else { throw refused("more than \(entryLimit) zip entries") }
            try cd.zip64.forEach { try bounded($0, "ZIP64 size or offset") }
            let localAt = cd.offset32 == 0xFFFF_FFFF ? (cd.zip64Field(2) ?? 0) : cd.offset32
            try bounded(localAt, "local header offset")
            guard u32(localAt) == 0x0403_4B50,
                  let local = readHeader(at: localAt, central: false, u16: u16, u32: u32, u64: u64) else { break }
            try local.zip64.forEach { try bounded($0, "ZIP64 size or offset") }
            if cd.flags & 0x8 != 0 {
                // Data descriptor after the data: its sizes override the headers' in ZIPFoundation.
                let dataSize = cd.method != 0 ? cd.effective(compressed: true) : cd.effective(compressed: false)
                try bounded(dataSize, "entry size")
                let at = localAt + 30 + local.nameLength + local.extraLength + dataSize
                let shift: UInt64 = u32(at) == 0x0807_4B50 ? 4 : 0
                if cd.isZIP64 {
                    try bounded(u64(at + shift + 4), "data descriptor size")
                    try bounded(u64(at + shift + 12), "data descriptor size")
                }
            }
            index += 46 + cd.nameLength + cd.extraLength + cd.commentLength
        }
    }

    struct Header {
        var flags: UInt64 = 0
        var method: UInt64 = 0
        var version: UInt64 = 0
        var compressed32: UInt64 = 0
        var uncompressed32: UInt64 = 0
        var offset32: UInt64 = 0
        var nameLength: UInt64 = 0
        var extraLength: UInt64 = 0
        var commentLength: UInt64 = 0
        /// 64-bit words of the ZIP64 extra field, in order.
        var zip64: [UInt64] = []
        var hasZip64 = false

        var isZIP64: Bool { version & 0xFF >= 45 || hasZip64 }

        /// Which ZIP64 word holds field k (0 uncompressed, 1 compressed, 2 offset): only the
        /// fields whose 32-bit value is all ones are present, in that order.
        func zip64Field(_ k: Int) -> UInt64? {
            let present = [uncompressed32, compressed32, offset32].map { $0 == 0xFFFF_FFFF }
            guard present[k] else { return nil }
            let slot = present[..<k].filter { $0 }.count
            return slot < zip64.count ? zip64[slot] : nil
        }

        func effective(compressed: Bool) -> UInt64 {
            let value32 = compressed ? compressed32 : uncompressed32
            guard value32 == 0xFFFF_FFFF, let value = zip64Field(compressed ? 1 : 0) else { return value32 }
            return value
        }
    }

    static func readHeader(at start: UInt64, central: Bool, u16: (UInt64) -> UInt64?, u32: (UInt64) -> UInt64?,
                           u64: (UInt64) -> UInt64?) -> Header? {
        var header = Header()
        let fixed: UInt64 = central ? 46 : 30
        let shift: UInt64 = central ? 2 : 0  // central headers have the extra "version made by" field
        guard u32(start + fixed - 4) != nil else { return nil }
        header.version = u16(start + 4 + shift)!
        header.flags = u16(start + 6 + shift)!
        header.method = u16(start + 8 + shift)!
        header.compressed32 = u32(start + 18 + shift)!
        header.uncompressed32 = u32(start + 22 + shift)!
        header.nameLength = u16(start + 26 + shift)!
        header.extraLength = u16(start + 28 + shift)!
        if central {
            header.commentLength = u16(start + 32)!
            header.offset32 = u32(start + 42)!
        }
        // Extra fields: (id u16, length u16, data)*.
        var field = start + fixed + header.nameLength
        let end = field + header.extraLength
        while field + 4 <= end, let id = u16(field), let length = u16(field + 2) {
            if id == 0x0001 {
                header.hasZip64 = true
                var word = field + 4
                while word + 8 <= field + 4 + length, word + 8 <= end, let value = u64(word) {
                    header.zip64.append(value)
                    word += 8
                }
                break
            }
            field += 4 + length
        }
        return header
    }
}
