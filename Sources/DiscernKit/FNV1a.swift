/// 64-bit FNV-1a: a fast, stable hash for cache and checkpoint identities (not for security). The same bytes give
/// the same value on every platform and run, so identities written to disk stay comparable.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { add(byte: UInt64(byte)) }
    }

    /// Each float's 32 bits as one unit, as the weight hashes have always been computed.
    mutating func add(_ values: [Float]) {
        for value in values { add(byte: UInt64(value.bitPattern)) }
    }

    private mutating func add(byte unit: UInt64) { value = (value ^ unit) &* 0x100_0000_01b3 }

    var hex: String { String(value, radix: 16) }
}
