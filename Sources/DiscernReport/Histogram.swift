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

    public init(style: ChartStyle, groups: [(name: String, values: [Double])]) {
        self.style = style
        self.groups = groups
    }

    /// numpy.histogram semantics: `bins` equal bins over `range`, right edge of the last bin included,
    /// values outside ignored.
    public static func counts(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> [Int] {
        var counts = [Int](repeating: 0, count: max(bins, 1))
        let lo = range.lowerBound
        let binWidth = (range.upperBound - lo) / Double(counts.count)
        for v in values where v.isFinite && range.contains(v) {
            let bin = binWidth > 0 ? min(Int((v - lo) / binWidth), counts.count - 1) : 0
            counts[bin] += 1
        }
        return counts
    }

    public var binRange: ClosedRange<Double> {
        if let range { return range }
        let all = groups.flatMap(\.values).filter(\.isFinite)
        let lo = all.min() ?? 0
        let hi = all.max() ?? 1
        return lo < hi ? lo...hi : (lo - 0.5)...(hi + 0.5)
    }

    /// Bar heights per group (densities or counts).
    public func heights() -> [[Double]] {
        let range = binRange
        let binWidth = (range.upperBound - range.lowerBound) / Double(bins)
        return groups.map { group in
            let counts = Self.counts(group.values, bins: bins, range: range)
            let total = Double(counts.reduce(0, +))
            return counts.map { density ? (total > 0 ? Double($0) / (total * binWidth) : 0) : Double($0) }
        }
    }

    public func svg() -> String {
        let range = binRange
        let heights = self.heights()
        let binWidth = (range.upperBound - range.lowerBound) / Double(bins)
        var chartStyle = style
        if chartStyle.yLabel.isEmpty { chartStyle.yLabel = density ? "Density" : "Count" }
        let xDomain = chartStyle.xDomain
            ?? Ticks.niceDomain([range.lowerBound, range.upperBound] + thresholds.map(\.x))
        let top = yMax
            ?? Ticks.niceDomain(heights.flatMap { $0 } + curves.flatMap(\.y) + [0], includeZero: true).upperBound
        var frame = ChartFrame(style: chartStyle, xDomain: xDomain, yDomain: chartStyle.yDomain ?? 0...top)
        frame.drawAxes()
        var legend: [(name: String, color: String, dashed: Bool)] = []
        for (groupIndex, group) in groups.enumerated() {
            let color = Palette.color(groupIndex)
            frame.add(
                "<g class=\"bars\" data-name=\"\(Markup.escape(group.name))\" fill=\"\(color)\" fill-opacity=\"0.35\""
                    + " stroke=\"\(color)\" stroke-width=\"0.8\">"
            )
            for (bin, v) in heights[groupIndex].enumerated() where v > 0 {
                let x0 = frame.x(range.lowerBound + Double(bin) * binWidth)
                let x1 = frame.x(range.lowerBound + Double(bin + 1) * binWidth)
                let clipped = v > frame.y.domain.upperBound
                let yTop = frame.y(min(v, frame.y.domain.upperBound))
                let yBase = frame.y(max(0, frame.y.domain.lowerBound))
                frame.occupy(x0: x0, y0: yTop, x1: x1, y1: yBase)
                frame.add(
                    "<rect x=\"\(ChartFrame.coord(x0))\" y=\"\(ChartFrame.coord(yTop))\""
                        + " width=\"\(ChartFrame.coord(x1 - x0))\" height=\"\(ChartFrame.coord(yBase - yTop))\""
                        + " data-value=\"\(Markup.number(v, digits: 4))\"\(clipped ? " class=\"clipped\"" : "")/>"
                )
                if clipped {
                    let cx = (x0 + x1) / 2
                    frame.add(
                        "<path d=\"M\(ChartFrame.coord(cx - 4)) \(ChartFrame.coord(yTop + 7))L\(ChartFrame.coord(cx))"
                            + " \(ChartFrame.coord(yTop + 1))L\(ChartFrame.coord(cx + 4))"
                            + " \(ChartFrame.coord(yTop + 7))\" fill=\"none\" stroke=\"#222\"/>"
                    )
                }
            }
            frame.add("</g>")
            legend.append((group.name, color, false))
        }
        for (index, curve) in curves.enumerated() {
            let color = curve.color ?? Palette.color(index)
            frame.polyline(curve, color: color, width: 2.2)
            if curve.showInLegend && !curve.name.isEmpty { legend.append((curve.name, color, curve.dashed)) }
        }
        for threshold in thresholds { frame.verticalLine(at: threshold.x, label: threshold.label) }
        frame.drawLegend(legend, boxes: Set(groups.indices))
        return frame.svg()
    }
}
