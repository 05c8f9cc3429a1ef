/// SplitMix64, the one small deterministic generator every library uses (random weights, head
/// initialisation, shuffles, augmentation, subsampling): reproducible across platforms and Swift
/// versions, unlike the standard library's generators and shuffle algorithm, which are not specified.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    /// The generator whose state starts at `seed`.
    public init(seed: UInt64) { self.init(state: seed) }

    /// An independent stream for (seed, a, b), e.g. (run seed, epoch, sample index), so parallel
    /// workers draw the same numbers whatever order they run in.
    public init(seed: UInt64, _ a: UInt64, _ b: UInt64 = 0) {
        var first = SplitMix64(state: seed ^ 0x9E37_79B9_7F4A_7C15)
        var second = SplitMix64(state: first.next() ^ (a &* 0xBF58_476D_1CE4_E5B9))
        self.init(state: second.next() ^ (b &* 0x94D0_49BB_1331_11EB))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits (all a Float can hold).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [lower, upper) with 53 random bits.
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * (Double(next() >> 11) * 0x1.0p-53)
    }

    /// Uniform integer in [lower, upper) (upper > lower), by the standard library's `next(upperBound:)`.
    public mutating func int(_ lower: Int, _ upper: Int) -> Int {
        lower + Int(next(upperBound: UInt64(upper - lower)))
    }

    /// Uniform integer in 0..<bound without modulo bias (rejection sampling, written out so the
    /// sequence does not depend on the standard library's algorithm).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "SplitMix64.nextInt: the bound must be positive")
        let range = UInt64(bound)
        let limit = UInt64.max - UInt64.max % range
        var value = next()
        while value >= limit { value = next() }
        return Int(value % range)
    }

    /// Fisher–Yates permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, nextInt(below: i + 1)) }
        }
        return order
    }
}
