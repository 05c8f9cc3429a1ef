import DiscernEngine

/// SplitMix64: small, fast, fully deterministic from a seed (Swift's SystemRandomNumberGenerator is not).
public struct SeededRNG: RandomNumberGenerator, Sendable {
    private var core: SplitMix64

    public init(seed: UInt64) { core = SplitMix64(state: seed) }

    /// An independent stream for (seed, a, b) — e.g. (run seed, epoch, sample index) — so parallel workers
    /// draw the same numbers whatever order they run in.
    public init(seed: UInt64, _ a: UInt64, _ b: UInt64 = 0) {
        var s = SeededRNG(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        let x = s.next() ^ (a &* 0xBF58_476D_1CE4_E5B9)
        var t = SeededRNG(seed: x)
        core = SplitMix64(state: t.next() ^ (b &* 0x94D0_49BB_1331_11EB))
    }

    public mutating func next() -> UInt64 { core.next() }

    /// Uniform in [lo, hi) with 53 random bits.
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * (Double(next() >> 11) * 0x1.0p-53)
    }

    /// Uniform integer in [lo, hi) (hi > lo).
    public mutating func int(_ lo: Int, _ hi: Int) -> Int {
        lo + Int(next(upperBound: UInt64(hi - lo)))
    }
}
