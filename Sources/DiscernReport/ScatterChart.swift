import Foundation

/// Points in groups, each group a colour and a marker shape (so it reads without colour too).
public struct ScatterChart: Sendable {
    public struct Point: Sendable {
        public var x: Double, y: Double, group: Int
        public init(x: Double, y: Double, group: Int) {
            self.x = x
            self.y = y
            self.group = group
        }
    }
    public var style: ChartStyle
    public var groups: [String]
    public var points: [Point]
    public var radius = 4.0
    /// Dashed horizontal lines (e.g. a rejection threshold).
    public var horizontalLines: [(y: Double, label: String)] = []
    public init(style: ChartStyle, groups: [String], points: [Point]) {
        self.style = style
        self.groups = groups
        self.points = points
    }

    /// Marker `shape` of a group centred at (x, y) as SVG.
    static func marker(_ group: Int, x: String, y: String, r: Double, color: String) -> String {
        let fill = "fill=\"\(color)\" fill-opacity=\"0.75\" stroke=\"\(color)\""
        let rs = ChartFrame.coord(r), d = ChartFrame.coord(2 * r)
        switch group % 4 {
        case 0: return "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(rs)\" \(fill)/>"
        case 1:
            return
                "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(d)\" height=\"\(d)\" transform=\"translate(-\(rs) -\(rs))\""
                    + " \(fill)/>"
        case 2:
            return
                "<path d=\"M0 -\(ChartFrame.coord(r * 1.2))L\(ChartFrame.coord(r * 1.1))"
                    + " \(ChartFrame.coord(r * 0.8))H-\(ChartFrame.coord(r * 1.1))Z\" transform=\"translate(\(x)"
                    + " \(y))\" \(fill)/>"
        default:
            return
                "<path d=\"M0 -\(d)L\(rs) 0L0 \(d)L-\(rs) 0Z\" transform=\"translate(\(x) \(y)) scale(0.7)\" \(fill)/>"
        }
    }

    public func svg() -> String {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        let xd = style.xDomain ?? Ticks.niceDomain(finite.map(\.x))
        let yd = style.yDomain ?? Ticks.niceDomain(finite.map(\.y) + horizontalLines.map(\.y))
        var frame = ChartFrame(style: style, xDomain: xd, yDomain: yd)
        frame.drawAxes()
        for (gi, name) in groups.enumerated() {
            let color = Palette.color(gi)
            frame.add("<g class=\"points\" data-name=\"\(Markup.escape(name))\" clip-path=\"url(#\(frame.clipID))\">")
            for p in finite where p.group == gi {
                frame.occupied.append((frame.x(p.x), frame.y(p.y)))
                frame.add(
                    Self.marker(
                        gi, x: ChartFrame.coord(frame.x(p.x)), y: ChartFrame.coord(frame.y(p.y)), r: radius,
                        color: color))
            }
            frame.add("</g>")
        }
        for l in horizontalLines { frame.horizontalLine(at: l.y, label: l.label) }
        let entries = groups.enumerated().map { (name: $1, color: Palette.color($0), dashed: false) }
        frame.drawLegend(
            entries,
            shapes: groups.indices.map { Self.marker($0, x: "{X}", y: "{Y}", r: radius, color: Palette.color($0)) })
        return frame.svg()
    }
}
