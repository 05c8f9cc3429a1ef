import Foundation

/// Overlaid histograms of several groups (e.g. a logit per true class), with optional curves
/// (KDE), a clipped ("zoomed") y axis and vertical threshold lines.
public struct HistogramChart: Sendable {
    public var style: ChartStyle
    public var groups: [(name: String, values: [Double])]
    public var bins = 30
    /// Bin range; nil: min…max of all values.
    public var range: ClosedRange<Double>?
    /// Heights as densities (count / (n · bin width), numpy's density=True) so curves overlay.
    public var density = true
    /// Lines drawn over the bars, e.g. KDE curves evaluated by the caller.
    public var curves: [Series] = []
    /// Zoom: the y axis ends here; taller bars are cut at the top and marked with a caret.
    public var yMax: Double?
    public var thresholds: [(x: Double, label: String)] = []

    public init(style: ChartStyle, groups: [(name: String, values: [Double])]) { self.style = style; self.groups = groups }

    /// numpy.histogram semantics: `bins` equal bins over `range`, right edge of the last bin included,
    /// values outside ignored.
    public static func counts(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> [Int] {
        var c = [Int](repeating: 0, count: max(bins, 1))
        let lo = range.lowerBound, w = (range.upperBound - lo) / Double(c.count)
        for v in values where v.isFinite && range.contains(v) {
            let k = w > 0 ? min(Int((v - lo) / w), c.count - 1) : 0
            c[k] += 1
        }
        return c
    }

    public var binRange: ClosedRange<Double> {
        if let r = range { return r }
        let all = groups.flatMap(\.values).filter(\.isFinite)
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        return lo < hi ? lo...hi : (lo - 0.5)...(hi + 0.5)
    }

    /// Bar heights per group (densities or counts).
    public func heights() -> [[Double]] {
        let r = binRange, w = (r.upperBound - r.lowerBound) / Double(bins)
        return groups.map { g in
            let c = Self.counts(g.values, bins: bins, range: r)
            let n = Double(c.reduce(0, +))
            return c.map { density ? (n > 0 ? Double($0) / (n * w) : 0) : Double($0) }
        }
    }

    public func svg() -> String {
        let r = binRange, h = heights(), w = (r.upperBound - r.lowerBound) / Double(bins)
        var st = style
        if st.yLabel.isEmpty { st.yLabel = density ? "Density" : "Count" }
        let xd = st.xDomain ?? Ticks.niceDomain([r.lowerBound, r.upperBound] + thresholds.map(\.x))
        let top = yMax ?? Ticks.niceDomain(h.flatMap { $0 } + curves.flatMap(\.y) + [0], includeZero: true).upperBound
        var f = ChartFrame(style: st, xDomain: xd, yDomain: st.yDomain ?? 0...top)
        f.drawAxes()
        var legend: [(name: String, color: String, dashed: Bool)] = []
        for (gi, g) in groups.enumerated() {
            let color = Palette.color(gi)
            f.add("<g class=\"bars\" data-name=\"\(Markup.escape(g.name))\" fill=\"\(color)\" fill-opacity=\"0.35\" stroke=\"\(color)\" stroke-width=\"0.8\">")
            for (k, v) in h[gi].enumerated() where v > 0 {
                let x0 = f.x(r.lowerBound + Double(k) * w), x1 = f.x(r.lowerBound + Double(k + 1) * w)
                let clipped = v > f.y.domain.upperBound
                let yTop = f.y(min(v, f.y.domain.upperBound)), yBase = f.y(max(0, f.y.domain.lowerBound))
                f.occupy(x0: x0, y0: yTop, x1: x1, y1: yBase)
                f.add("<rect x=\"\(ChartFrame.c(x0))\" y=\"\(ChartFrame.c(yTop))\" width=\"\(ChartFrame.c(x1 - x0))\" height=\"\(ChartFrame.c(yBase - yTop))\" data-value=\"\(Markup.number(v, digits: 4))\"\(clipped ? " class=\"clipped\"" : "")/>")
                if clipped {
                    let cx = (x0 + x1) / 2
                    f.add("<path d=\"M\(ChartFrame.c(cx - 4)) \(ChartFrame.c(yTop + 7))L\(ChartFrame.c(cx)) \(ChartFrame.c(yTop + 1))L\(ChartFrame.c(cx + 4)) \(ChartFrame.c(yTop + 7))\" fill=\"none\" stroke=\"#222\"/>")
                }
            }
            f.add("</g>")
            legend.append((g.name, color, false))
        }
        for (i, c) in curves.enumerated() {
            let color = c.color ?? Palette.color(i)
            f.polyline(c, color: color, width: 2.2)
            if c.showInLegend && !c.name.isEmpty { legend.append((c.name, color, c.dashed)) }
        }
        for t in thresholds { f.verticalLine(at: t.x, label: t.label) }
        f.drawLegend(legend, boxes: Set(groups.indices))
        return f.svg()
    }
}
