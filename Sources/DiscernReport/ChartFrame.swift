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
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
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
        self.name = name; self.x = x; self.y = y; self.dashed = dashed; self.color = color
    }
    /// y against 0, 1, 2, … (e.g. per iteration).
    public init(name: String, y: [Double], color: String? = nil) {
        self.init(name: name, x: y.indices.map(Double.init), y: y, color: color)
    }
}

/// Collects SVG elements over the axes, grid, title and legend of one chart.
struct ChartFrame {
    let style: ChartStyle
    let x: LinearScale, y: LinearScale
    var body = ""
    let clipID: String
    /// Pixels covered by data, so the legend can go to the emptiest corner.
    var occupied: [(Double, Double)] = []

    init(style: ChartStyle, xDomain: ClosedRange<Double>, yDomain: ClosedRange<Double>) {
        self.style = style
        let m = style.margin
        x = LinearScale(domain: xDomain, range: (m.left, style.width - m.right))
        y = LinearScale(domain: yDomain, range: (style.height - m.bottom, m.top))
        // Charts with the same layout share the same clip rectangle, so equal ids are harmless.
        clipID = "plot-\(Int(style.width))x\(Int(style.height))-\(Int(m.top))-\(Int(m.right))-\(Int(m.bottom))-\(Int(m.left))"
    }

    var plotLeft: Double { style.margin.left }
    var plotRight: Double { style.width - style.margin.right }
    var plotTop: Double { style.margin.top }
    var plotBottom: Double { style.height - style.margin.bottom }

    static func c(_ v: Double) -> String { Markup.coord(v) }

    mutating func add(_ element: String) { body += element + "\n" }

    mutating func text(_ s: String, x: Double, y: Double, anchor: String = "middle", size: Double = 12,
                       weight: String? = nil, rotate: Bool = false, color: String = "#222") {
        let rot = rotate ? " transform=\"rotate(-90 \(Self.c(x)) \(Self.c(y)))\"" : ""
        let w = weight.map { " font-weight=\"\($0)\"" } ?? ""
        add("<text x=\"\(Self.c(x))\" y=\"\(Self.c(y))\" text-anchor=\"\(anchor)\" font-size=\"\(Self.c(size))\" fill=\"\(color)\"\(w)\(rot)>\(Markup.escape(s))</text>")
    }

    /// Grid lines, both axes with ticks and labels, axis titles and the chart title.
    mutating func drawAxes(xTickLabels: [(Double, String)]? = nil) {
        let (yt, ys) = Ticks.values(y.domain)
        for v in yt {
            let py = y(v)
            add("<line class=\"grid\" x1=\"\(Self.c(plotLeft))\" y1=\"\(Self.c(py))\" x2=\"\(Self.c(plotRight))\" y2=\"\(Self.c(py))\" stroke=\"\(Palette.grid)\"/>")
            add("<line x1=\"\(Self.c(plotLeft - 5))\" y1=\"\(Self.c(py))\" x2=\"\(Self.c(plotLeft))\" y2=\"\(Self.c(py))\" stroke=\"\(Palette.axis)\"/>")
            text(Markup.tick(v, step: ys), x: plotLeft - 8, y: py + 4, anchor: "end", size: 11)
        }
        let xt: [(Double, String)]
        if let given = xTickLabels { xt = given } else {
            let (v, s) = Ticks.values(x.domain)
            xt = v.map { ($0, Markup.tick($0, step: s)) }
        }
        for (v, label) in xt {
            let px = x(v)
            add("<line x1=\"\(Self.c(px))\" y1=\"\(Self.c(plotBottom))\" x2=\"\(Self.c(px))\" y2=\"\(Self.c(plotBottom + 5))\" stroke=\"\(Palette.axis)\"/>")
            text(label, x: px, y: plotBottom + 19, size: 11)
        }
        add("<path class=\"axes\" d=\"M\(Self.c(plotLeft)) \(Self.c(plotTop))V\(Self.c(plotBottom))H\(Self.c(plotRight))\" fill=\"none\" stroke=\"\(Palette.axis)\"/>")
        if !style.xLabel.isEmpty { text(style.xLabel, x: (plotLeft + plotRight) / 2, y: style.height - 12, size: 12) }
        if !style.yLabel.isEmpty { text(style.yLabel, x: 16, y: (plotTop + plotBottom) / 2, size: 12, rotate: true) }
        if !style.title.isEmpty { text(style.title, x: style.width / 2, y: 24, size: 15, weight: "600") }
    }

    /// Marks a filled pixel rectangle as covered by data (sampled every 8 px).
    mutating func occupy(x0: Double, y0: Double, x1: Double, y1: Double) {
        var y = min(y0, y1)
        while y <= max(y0, y1) {
            var x = min(x0, x1)
            while x <= max(x0, x1) { occupied.append((x, y)); x += 8 }
            y += 8
        }
    }

    /// The legend box's corner: the one of top-right, top-left, bottom-right, bottom-left that
    /// covers the fewest data pixels.
    func legendOrigin(width w: Double, height h: Double) -> (Double, Double) {
        let corners = [(plotRight - w - 6, plotTop + 6), (plotLeft + 6, plotTop + 6),
                       (plotRight - w - 6, plotBottom - h - 6), (plotLeft + 6, plotBottom - h - 6)]
        func hits(_ c: (Double, Double)) -> Int {
            occupied.reduce(0) { $0 + (($1.0 >= c.0 - 4 && $1.0 <= c.0 + w + 4 && $1.1 >= c.1 - 4 && $1.1 <= c.1 + h + 4) ? 1 : 0) }
        }
        var best = corners[0], fewest = hits(best)
        for c in corners.dropFirst() { let n = hits(c); if n < fewest { best = c; fewest = n } }
        return best
    }

    /// Legend box in the emptiest corner. `shapes` draw each entry's key at ({X}, {Y});
    /// `boxes` entries get a filled square (bars) instead of a line.
    mutating func drawLegend(_ entries: [(name: String, color: String, dashed: Bool)], shapes: [String]? = nil, boxes: Set<Int> = []) {
        guard style.legend, !entries.isEmpty else { return }
        let longest = entries.map(\.name.count).max() ?? 0
        let w = min(Double(longest) * 6.6 + 38, plotRight - plotLeft), h = Double(entries.count) * 18 + 8
        let (x0, y0) = legendOrigin(width: w, height: h)
        add("<g class=\"legend\">")
        add("<rect x=\"\(Self.c(x0))\" y=\"\(Self.c(y0))\" width=\"\(Self.c(w))\" height=\"\(Self.c(h))\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\" rx=\"3\"/>")
        for (i, e) in entries.enumerated() {
            let cy = y0 + 13 + Double(i) * 18
            if boxes.contains(i) {
                add("<rect x=\"\(Self.c(x0 + 10))\" y=\"\(Self.c(cy - 6))\" width=\"14\" height=\"12\" fill=\"\(e.color)\" fill-opacity=\"0.35\" stroke=\"\(e.color)\"/>")
            } else if let s = shapes?[i] { add(s.replacingOccurrences(of: "{X}", with: Self.c(x0 + 16)).replacingOccurrences(of: "{Y}", with: Self.c(cy))) } else {
                let dash = e.dashed ? " stroke-dasharray=\"5 4\"" : ""
                add("<line x1=\"\(Self.c(x0 + 8))\" y1=\"\(Self.c(cy))\" x2=\"\(Self.c(x0 + 26))\" y2=\"\(Self.c(cy))\" stroke=\"\(e.color)\" stroke-width=\"2.5\"\(dash)/>")
            }
            text(e.name, x: x0 + 32, y: cy + 4, anchor: "start", size: 11)
        }
        add("</g>")
    }

    /// A polyline of data points, clipped to the plot area; non-finite points break the line.
    mutating func polyline(_ s: Series, color: String, width: Double = 1.8) {
        var runs: [[String]] = [[]]
        var last: (Double, Double)?
        for (a, b) in zip(s.x, s.y) {
            guard a.isFinite && b.isFinite else {
                if !runs[runs.count - 1].isEmpty { runs.append([]) }
                last = nil; continue
            }
            let p = (x(a), y(b))
            runs[runs.count - 1].append("\(Self.c(p.0)),\(Self.c(p.1))")
            // Sample the segment every ~8 px for legend placement.
            if let q = last {
                let steps = min(Int(max(abs(p.0 - q.0), abs(p.1 - q.1)) / 8), 200)
                for k in 0...steps { let t = Double(k) / Double(max(steps, 1)); occupied.append((q.0 + (p.0 - q.0) * t, q.1 + (p.1 - q.1) * t)) }
            } else { occupied.append(p) }
            last = p
        }
        let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
        for r in runs where !r.isEmpty {
            add("<polyline class=\"series\" data-name=\"\(Markup.escape(s.name))\" points=\"\(r.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(Self.c(width))\" stroke-linejoin=\"round\"\(dash) clip-path=\"url(#\(clipID))\"/>")
        }
    }

    /// A labelled vertical line at data x (e.g. a threshold).
    mutating func verticalLine(at v: Double, label: String, color: String = "#D55E00") {
        let px = x(v)
        add("<line class=\"threshold\" x1=\"\(Self.c(px))\" y1=\"\(Self.c(plotTop))\" x2=\"\(Self.c(px))\" y2=\"\(Self.c(plotBottom))\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>")
        if !label.isEmpty { text(label, x: px + 4, y: plotTop + 12, anchor: "start", size: 11, color: color) }
    }

    mutating func horizontalLine(at v: Double, label: String, color: String = "#D55E00") {
        let py = y(v)
        add("<line class=\"threshold\" x1=\"\(Self.c(plotLeft))\" y1=\"\(Self.c(py))\" x2=\"\(Self.c(plotRight))\" y2=\"\(Self.c(py))\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>")
        if !label.isEmpty { text(label, x: plotLeft + 4, y: py - 4, anchor: "start", size: 11, color: color) }
    }

    func svg() -> String {
        let w = Self.c(style.width), h = Self.c(style.height)
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" font-family="Helvetica, Arial, sans-serif" role="img" aria-label="\(Markup.escape(style.title))">
        <title>\(Markup.escape(style.title))</title>
        <defs><clipPath id="\(clipID)"><rect x="\(Self.c(plotLeft))" y="\(Self.c(plotTop))" width="\(Self.c(plotRight - plotLeft))" height="\(Self.c(plotBottom - plotTop))"/></clipPath></defs>
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(body)</svg>
        """
    }
}
