import Foundation

/// Size and text of a chart. The plot area is the rectangle inside the margins:
/// x from `margin.left` to `width − margin.right`, y from `margin.top` to `height − margin.bottom`.
public struct ChartStyle: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var width: Double = 640
    public var height: Double = 380
    public var margin = (top: 44.0, right: 24.0, bottom: 54.0, left: 68.0)
    public var xDomain: ClosedRange<Double>?   // nil: from the data, widened to whole ticks
    public var yDomain: ClosedRange<Double>?
    public var legend = true
    public init(title: String, xLabel: String = "", yLabel: String = "") {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }
}

/// A named x/y series. `dashed` for reference lines; `color` overrides the palette.
public struct Series: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var dashed = false
    public var color: String?
    public var showInLegend = true
    public init(name: String, x: [Double], y: [Double], dashed: Bool = false, color: String? = nil) {
        precondition(x.count == y.count, "Series \(name): \(x.count) x values, \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
        self.dashed = dashed
        self.color = color
    }
    /// y against 0, 1, 2, … (e.g. per iteration).
    public init(name: String, y: [Double], color: String? = nil) {
        self.init(name: name, x: y.indices.map(Double.init), y: y, color: color)
    }
}

/// Collects SVG elements over the axes, grid, title and legend of one chart.
struct ChartFrame {
    let style: ChartStyle
    let x: LinearScale
    let y: LinearScale
    var body = ""
    let clipID: String
    /// Pixels covered by data, so the legend can go to the emptiest corner.
    var occupied: [(Double, Double)] = []

    init(style: ChartStyle, xDomain: ClosedRange<Double>, yDomain: ClosedRange<Double>) {
        self.style = style
        let margin = style.margin
        x = LinearScale(domain: xDomain, range: (margin.left, style.width - margin.right))
        y = LinearScale(domain: yDomain, range: (style.height - margin.bottom, margin.top))
        // Charts with the same layout share the same clip rectangle, so equal ids are harmless.
        clipID = "plot-\(Int(style.width))x\(Int(style.height))-\(Int(margin.top))-\(Int(margin.right))"
            + "-\(Int(margin.bottom))-\(Int(margin.left))"
    }

    var plotLeft: Double { style.margin.left }
    var plotRight: Double { style.width - style.margin.right }
    var plotTop: Double { style.margin.top }
    var plotBottom: Double { style.height - style.margin.bottom }

    static func coord(_ value: Double) -> String { Markup.coord(value) }

    mutating func add(_ element: String) { body += element + "\n" }

    mutating func text(_ content: String, x: Double, y: Double, anchor: String = "middle", size: Double = 12,
                       weight: String? = nil, rotate: Bool = false, color: String = "#222") {
        let rotation = rotate ? " transform=\"rotate(-90 \(Self.coord(x)) \(Self.coord(y)))\"" : ""
        let fontWeight = weight.map { " font-weight=\"\($0)\"" } ?? ""
        add(
            "<text x=\"\(Self.coord(x))\" y=\"\(Self.coord(y))\" text-anchor=\"\(anchor)\""
                + " font-size=\"\(Self.coord(size))\""
                + " fill=\"\(color)\"\(fontWeight)\(rotation)>\(Markup.escape(content))</text>"
        )
    }

    /// Grid lines, both axes with ticks and labels, axis titles and the chart title.
    mutating func drawAxes(xTickLabels: [(Double, String)]? = nil) {
        let (yt, ys) = Ticks.values(y.domain)
        for v in yt {
            let py = y(v)
            add(
                "<line class=\"grid\" x1=\"\(Self.coord(plotLeft))\" y1=\"\(Self.coord(py))\""
                    + " x2=\"\(Self.coord(plotRight))\" y2=\"\(Self.coord(py))\" stroke=\"\(Palette.grid)\"/>"
            )
            add(
                "<line x1=\"\(Self.coord(plotLeft - 5))\" y1=\"\(Self.coord(py))\" x2=\"\(Self.coord(plotLeft))\""
                    + " y2=\"\(Self.coord(py))\" stroke=\"\(Palette.axis)\"/>"
            )
            text(Markup.tick(v, step: ys), x: plotLeft - 8, y: py + 4, anchor: "end", size: 11)
        }
        let xt: [(Double, String)]
        if let given = xTickLabels { xt = given } else {
            let (v, s) = Ticks.values(x.domain)
            xt = v.map { ($0, Markup.tick($0, step: s)) }
        }
        for (v, label) in xt {
            let px = x(v)
            add(
                "<line x1=\"\(Self.coord(px))\" y1=\"\(Self.coord(plotBottom))\" x2=\"\(Self.coord(px))\""
                    + " y2=\"\(Self.coord(plotBottom + 5))\" stroke=\"\(Palette.axis)\"/>"
            )
            text(label, x: px, y: plotBottom + 19, size: 11)
        }
        add(
            "<path class=\"axes\" d=\"M\(Self.coord(plotLeft))"
                + " \(Self.coord(plotTop))V\(Self.coord(plotBottom))H\(Self.coord(plotRight))\" fill=\"none\""
                + " stroke=\"\(Palette.axis)\"/>"
        )
        if !style.xLabel.isEmpty { text(style.xLabel, x: (plotLeft + plotRight) / 2, y: style.height - 12, size: 12) }
        if !style.yLabel.isEmpty { text(style.yLabel, x: 16, y: (plotTop + plotBottom) / 2, size: 12, rotate: true) }
        if !style.title.isEmpty { text(style.title, x: style.width / 2, y: 24, size: 15, weight: "600") }
    }

    /// Marks a filled pixel rectangle as covered by data (sampled every 8 px).
    mutating func occupy(x0: Double, y0: Double, x1: Double, y1: Double) {
        var y = min(y0, y1)
        while y <= max(y0, y1) {
            var x = min(x0, x1)
            while x <= max(x0, x1) {
                occupied.append((x, y))
                x += 8
            }
            y += 8
        }
    }

    /// The legend box's corner: the one of top-right, top-left, bottom-right, bottom-left that
    /// covers the fewest data pixels.
    func legendOrigin(width w: Double, height h: Double) -> (Double, Double) {
        let corners = [(plotRight - w - 6, plotTop + 6), (plotLeft + 6, plotTop + 6),
                       (plotRight - w - 6, plotBottom - h - 6), (plotLeft + 6, plotBottom - h - 6)]
        func hits(_ corner: (Double, Double)) -> Int {
            occupied.reduce(0) { count, pixel in
                let inside = pixel.0 >= corner.0 - 4 && pixel.0 <= corner.0 + w + 4
                    && pixel.1 >= corner.1 - 4 && pixel.1 <= corner.1 + h + 4
                return count + (inside ? 1 : 0)
            }
        }
        var best = corners[0]
        var fewest = hits(best)
        for corner in corners.dropFirst() {
            let count = hits(corner)
            if count < fewest {
                best = corner
                fewest = count
            }
        }
        return best
    }

    /// Legend box in the emptiest corner. `shapes` draw each entry's key at ({X}, {Y});
    /// `boxes` entries get a filled square (bars) instead of a line.
    mutating func drawLegend(
        _ entries: [(name: String, color: String, dashed: Bool)], shapes: [String]? = nil, boxes: Set<Int> = []
    ) {
        guard style.legend, !entries.isEmpty else { return }
        let longest = entries.map(\.name.count).max() ?? 0
        let boxWidth = min(Double(longest) * 6.6 + 38, plotRight - plotLeft)
        let boxHeight = Double(entries.count) * 18 + 8
        let (x0, y0) = legendOrigin(width: boxWidth, height: boxHeight)
        add("<g class=\"legend\">")
        add(
            "<rect x=\"\(Self.coord(x0))\" y=\"\(Self.coord(y0))\" width=\"\(Self.coord(boxWidth))\""
                + " height=\"\(Self.coord(boxHeight))\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\""
                + " rx=\"3\"/>"
        )
        for (index, entry) in entries.enumerated() {
            let cy = y0 + 13 + Double(index) * 18
            if boxes.contains(index) {
                add(
                    "<rect x=\"\(Self.coord(x0 + 10))\" y=\"\(Self.coord(cy - 6))\" width=\"14\" height=\"12\""
                        + " fill=\"\(entry.color)\" fill-opacity=\"0.35\" stroke=\"\(entry.color)\"/>"
                )
            } else if let shape = shapes?[index] {
                add(shape.replacingOccurrences(of: "{X}", with: Self.coord(x0 + 16))
                    .replacingOccurrences(of: "{Y}", with: Self.coord(cy)))
            } else {
                let dash = entry.dashed ? " stroke-dasharray=\"5 4\"" : ""
                add(
                    "<line x1=\"\(Self.coord(x0 + 8))\" y1=\"\(Self.coord(cy))\" x2=\"\(Self.coord(x0 + 26))\""
                        + " y2=\"\(Self.coord(cy))\" stroke=\"\(entry.color)\" stroke-width=\"2.5\"\(dash)/>"
                )
            }
            text(entry.name, x: x0 + 32, y: cy + 4, anchor: "start", size: 11)
        }
        add("</g>")
    }

    /// A polyline of data points, clipped to the plot area; non-finite points break the line.
    mutating func polyline(_ series: Series, color: String, width: Double = 1.8) {
        var runs: [[String]] = [[]]
        var last: (Double, Double)?
        for (dataX, dataY) in zip(series.x, series.y) {
            guard dataX.isFinite && dataY.isFinite else {
                if !runs[runs.count - 1].isEmpty { runs.append([]) }
                last = nil
                continue
            }
            let point = (x(dataX), y(dataY))
            runs[runs.count - 1].append("\(Self.coord(point.0)),\(Self.coord(point.1))")
            // Sample the segment every ~8 px for legend placement.
            if let previous = last {
                let steps = min(Int(max(abs(point.0 - previous.0), abs(point.1 - previous.1)) / 8), 200)
                for k in 0...steps {
                    let t = Double(k) / Double(max(steps, 1))
                    occupied.append((previous.0 + (point.0 - previous.0) * t, previous.1 + (point.1 - previous.1) * t))
                }
            } else {
                occupied.append(point)
            }
            last = point
        }
        let dash = series.dashed ? " stroke-dasharray=\"6 4\"" : ""
        for run in runs where !run.isEmpty {
            add(
                "<polyline class=\"series\" data-name=\"\(Markup.escape(series.name))\""
                    + " points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\""
                    + " stroke-width=\"\(Self.coord(width))\" stroke-linejoin=\"round\"\(dash)"
                    + " clip-path=\"url(#\(clipID))\"/>"
            )
        }
    }

    /// A labelled vertical line at data x (e.g. a threshold).
    mutating func verticalLine(at v: Double, label: String, color: String = "#D55E00") {
        let px = x(v)
        add(
            "<line class=\"threshold\" x1=\"\(Self.coord(px))\" y1=\"\(Self.coord(plotTop))\" x2=\"\(Self.coord(px))\""
                + " y2=\"\(Self.coord(plotBottom))\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"4"
                + " 3\"/>"
        )
        if !label.isEmpty { text(label, x: px + 4, y: plotTop + 12, anchor: "start", size: 11, color: color) }
    }

    mutating func horizontalLine(at v: Double, label: String, color: String = "#D55E00") {
        let py = y(v)
        add(
            "<line class=\"threshold\" x1=\"\(Self.coord(plotLeft))\" y1=\"\(Self.coord(py))\""
                + " x2=\"\(Self.coord(plotRight))\" y2=\"\(Self.coord(py))\" stroke=\"\(color)\" stroke-width=\"1.5\""
                + " stroke-dasharray=\"4 3\"/>"
        )
        if !label.isEmpty { text(label, x: plotLeft + 4, y: py - 4, anchor: "start", size: 11, color: color) }
    }

    func svg() -> String {
        let width = Self.coord(style.width)
        let height = Self.coord(style.height)
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="Helvetica, Arial, sans-serif" role="img" aria-label="\(Markup.escape(style.title))">
        <title>\(Markup.escape(style.title))</title>
        <defs><clipPath id="\(clipID)"><rect x="\(Self.coord(plotLeft))" y="\(Self.coord(plotTop))" \
        width="\(Self.coord(plotRight - plotLeft))" height="\(Self.coord(plotBottom - plotTop))"/></clipPath></defs>
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(body)</svg>
        """
    }
}
