import Foundation

/// Grouped vertical bars: one group per category, one bar per series.
public struct BarChart: Sendable {
    public var style: ChartStyle
    public var categories: [String]
    public var series: [(name: String, values: [Double])]
    /// Writes each bar's value above it.
    public var valueLabels = true
    public init(style: ChartStyle, categories: [String], series: [(name: String, values: [Double])]) {
        self.style = style
        self.categories = categories
        self.series = series
    }

    public func svg() -> String {
        let all = series.flatMap(\.values).filter(\.isFinite)
        // Category i occupies [i, i+1) on the x axis; its centre carries the label.
        let xDomain = 0...Double(max(categories.count, 1))
        let yDomain = style.yDomain ?? Ticks.niceDomain(all + [0], includeZero: true)
        var frame = ChartFrame(style: style, xDomain: xDomain, yDomain: yDomain)
        frame.drawAxes(xTickLabels: categories.enumerated().map { (Double($0) + 0.5, $1) })
        let groupWidth = 0.8
        let barWidth = groupWidth / Double(max(series.count, 1))
        for (seriesIndex, one) in series.enumerated() {
            let color = Palette.color(seriesIndex)
            frame.add("<g class=\"bars\" data-name=\"\(Markup.escape(one.name))\" fill=\"\(color)\">")
            for (categoryIndex, value) in one.values.prefix(categories.count).enumerated() where value.isFinite {
                let left = Double(categoryIndex) + (1 - groupWidth) / 2 + Double(seriesIndex) * barWidth
                let x0 = frame.x(left)
                let x1 = frame.x(left + barWidth)
                let y0 = frame.y(max(min(0, yDomain.upperBound), yDomain.lowerBound))
                let y1 = frame.y(min(max(value, yDomain.lowerBound), yDomain.upperBound))
                frame.add(
                    "<rect x=\"\(ChartFrame.coord(x0))\" y=\"\(ChartFrame.coord(min(y0, y1)))\""
                        + " width=\"\(ChartFrame.coord(x1 - x0 - 1))\" height=\"\(ChartFrame.coord(abs(y0 - y1)))\""
                        + " data-category=\"\(Markup.escape(categories[categoryIndex]))\""
                        + " data-value=\"\(Markup.number(value, digits: 4))\"/>"
                )
                frame.occupy(x0: x0, y0: min(y0, y1) - 14, x1: x1, y1: max(y0, y1))
                if valueLabels {
                    frame.text(Markup.number(value), x: (x0 + x1) / 2, y: min(y0, y1) - 4, size: 10, color: "#333")
                }
            }
            frame.add("</g>")
        }
        if series.count > 1 {
            frame.drawLegend(series.enumerated().map { (name: $1.name, color: Palette.color($0), dashed: false) },
                             boxes: Set(series.indices))
        }
        return frame.svg()
    }
}

/// A confusion matrix as a heatmap: rows = true class, columns = predicted class; shade by the
/// row fraction (recall per cell), cells show count and row percentage.
public struct ConfusionHeatmap: Sendable {
    public var title: String
    public var classes: [String]
    public var counts: [[Int]]
    public var cell = 72.0
    public init(title: String, classes: [String], counts: [[Int]]) {
        self.title = title
        self.classes = classes
        self.counts = counts
    }

    /// White → dark blue.
    static func shade(_ fraction: Double) -> (fill: String, text: String) {
        let share = max(0, min(1, fraction.isFinite ? fraction : 0))
        let from = (247.0, 251.0, 255.0)
        let to = (8.0, 48.0, 107.0)
        let red = from.0 + (to.0 - from.0) * share
        let green = from.1 + (to.1 - from.1) * share
        let blue = from.2 + (to.2 - from.2) * share
        let fill = String(format: "#%02x%02x%02x", Int(red.rounded()), Int(green.rounded()), Int(blue.rounded()))
        return (fill, share > 0.5 ? "#ffffff" : "#111111")
    }

    public func svg() -> String {
        let classCount = classes.count
        let labelW = min(160, Double(classes.map(\.count).max() ?? 4) * 7 + 24)
        let left = labelW + 28
        let top = 76.0
        let width = max(left + Double(classCount) * cell + 20, 320)
        let height = top + Double(classCount) * cell + 40
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(ChartFrame.coord(width))\""
                + " height=\"\(ChartFrame.coord(height))\""
                + " viewBox=\"0 0 \(ChartFrame.coord(width)) \(ChartFrame.coord(height))\""
                + " font-family=\"Helvetica, Arial, sans-serif\" role=\"img\""
                + " aria-label=\"\(Markup.escape(title))\">\n"
        svg += "<title>\(Markup.escape(title))</title>\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        func text(
            _ content: String, _ x: Double, _ y: Double, anchor: String = "middle", size: Int = 12,
            color: String = "#222", extra: String = ""
        ) {
            svg +=
                "<text x=\"\(ChartFrame.coord(x))\" y=\"\(ChartFrame.coord(y))\" text-anchor=\"\(anchor)\""
                    + " font-size=\"\(size)\" fill=\"\(color)\"\(extra)>\(Markup.escape(content))</text>\n"
        }
        text(title, width / 2, 22, size: 15, extra: " font-weight=\"600\"")
        text("Predicted", left + Double(classCount) * cell / 2, top - 24, size: 12, extra: " font-weight=\"600\"")
        let midY = top + Double(classCount) * cell / 2
        text(
            "True", 14, midY, size: 12,
            extra: " font-weight=\"600\" transform=\"rotate(-90 14 \(ChartFrame.coord(midY)))\"")
        for (j, name) in classes.enumerated() { text(name, left + (Double(j) + 0.5) * cell, top - 6, size: 11) }
        for (i, row) in counts.prefix(classCount).enumerated() {
            let total = row.reduce(0, +)
            text(classes[i], left - 8, top + (Double(i) + 0.5) * cell + 4, anchor: "end", size: 11)
            for (j, count) in row.prefix(classCount).enumerated() {
                let frac = total > 0 ? Double(count) / Double(total) : 0
                let (fill, ink) = Self.shade(frac)
                let x = left + Double(j) * cell
                let y = top + Double(i) * cell
                svg +=
                    "<rect class=\"cell\" data-row=\"\(i)\" data-col=\"\(j)\" x=\"\(ChartFrame.coord(x))\""
                        + " y=\"\(ChartFrame.coord(y))\" width=\"\(ChartFrame.coord(cell))\""
                        + " height=\"\(ChartFrame.coord(cell))\" fill=\"\(fill)\" stroke=\"#ffffff\"/>\n"
                text("\(count)", x + cell / 2, y + cell / 2, size: 14, color: ink, extra: " font-weight=\"600\"")
                text(Markup.percent(frac), x + cell / 2, y + cell / 2 + 16, size: 10, color: ink)
            }
        }
        text("shade, % = share of the true class", left + Double(classCount) * cell / 2, height - 14, size: 10,
             color: "#666")
        return svg + "</svg>"
    }
}
