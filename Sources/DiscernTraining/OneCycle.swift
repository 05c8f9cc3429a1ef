import Foundation

/// The one-cycle schedule of fastai's `fit_one_cycle`, computed as `torch.optim.lr_scheduler.OneCycleLR`
/// (cosine annealing, two phases): the learning rate rises from max/div to max over the first
/// `warmupFraction` of the steps and falls to max/div/finalDiv; Adam's β₁ moves the opposite way
/// between `maxBeta1` and `minBeta1`. `scale(step)` is the rate as a fraction of the maximum, so the
/// same curve drives every layer group's discriminative rate.
public struct OneCycle: Sendable, Equatable {
    public let steps: Int
    public var warmupFraction = 0.3, div = 5.0, finalDiv = 2e4
    public var maxBeta1 = 0.95, minBeta1 = 0.85

    /// fastai's `fine_tune` unfreezes with `pct_start=0.3, div=5` and `div_final=1e5` (= div · finalDiv).
    public init(steps: Int) { self.steps = max(steps, 2) }

    private func phase(_ step: Int) -> (pct: Double, warm: Bool) {
        let warmEnd = warmupFraction * Double(steps) - 1, last = Double(steps - 1), s = Double(step)
        if s <= warmEnd { return (s / warmEnd, true) }
        return ((s - warmEnd) / (last - warmEnd), false)
    }

    private static func cosine(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        end + (start - end) / 2 * (cos(Double.pi * pct) + 1)
    }

    /// Learning rate of `step` (0-based) over the maximum.
    public func scale(_ step: Int) -> Double {
        let (pct, warm) = phase(step)
        return warm ? Self.cosine(1 / div, 1, pct) : Self.cosine(1, 1 / (div * finalDiv), pct)
    }

    public func beta1(_ step: Int) -> Double {
        let (pct, warm) = phase(step)
        return warm ? Self.cosine(maxBeta1, minBeta1, pct) : Self.cosine(minBeta1, maxBeta1, pct)
    }

    /// fastai's discriminative rates (`even_mults(lr/ratio, lr)`): geometric from max/ratio for the
    /// first layer group to max for the last (the head).
    public static func discriminative(max: Double, groups: Int, ratio: Double = 100) -> [Double] {
        guard groups > 1 else { return [max] }
        return (0..<groups).map { g in max / ratio * pow(ratio, Double(g) / Double(groups - 1)) }
    }
}
