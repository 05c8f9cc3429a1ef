import DiscernEngine

/// SplitMix64: small, fast, and reproducible across platforms and Swift versions
/// (unlike the standard library's shuffle, whose algorithm is not specified).
public struct TrainingRNG: RandomNumberGenerator, Sendable {
    private var core: SplitMix64
    public init(seed: UInt64) { core = SplitMix64(state: seed) }

    public mutating func next() -> UInt64 { core.next() }

    /// Uniform in [0, 1) with 24 random bits (all a Float can hold).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform integer in 0..<n without modulo bias (rejection sampling; written out so the
    /// sequence does not depend on the standard library's algorithm).
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "TrainingRNG.nextInt: n must be positive")
        let bound = UInt64(n), limit = UInt64.max - UInt64.max % bound
        var r = next()
        while r >= limit { r = next() }
        return Int(r % bound)
    }

    /// Fisher–Yates permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) } }
        return p
    }
}
