import Foundation

/// Lines over a shared x axis (loss and accuracy per iteration, ROC, risk–coverage).
public struct LineChart: Sendable {
    public var style: ChartStyle
    public var series: [Series]
    /// Vertical marker lines (data x, label).
    public var markers: [(x: Double, label: String)] = []
    public init(style: ChartStyle, series: [Series]) {
        self.style = style
        self.series = series
    }

    public func svg() -> String {
        let xd = style.xDomain ?? Ticks.niceDomain(series.flatMap(\.x) + markers.map(\.x))
        let yd = style.yDomain ?? Ticks.niceDomain(series.flatMap(\.y))
        var frame = ChartFrame(style: style, xDomain: xd, yDomain: yd)
        frame.drawAxes()
        var legend: [(name: String, color: String, dashed: Bool)] = []
        for (i, s) in series.enumerated() {
            let color = s.color ?? Palette.color(i)
            frame.polyline(s, color: color)
            if s.showInLegend { legend.append((s.name, color, s.dashed)) }
        }
        for m in markers { frame.verticalLine(at: m.x, label: m.label) }
        // A single series is named by the title and axis labels; a legend would only hide data.
        if legend.count > 1 { frame.drawLegend(legend) }
        return frame.svg()
    }

    /// ROC curves on [0, 1]² with the chance diagonal; names usually carry the AUROC.
    public static func roc(title: String, curves: [Series]) -> LineChart {
        var st = ChartStyle(title: title, xLabel: "False positive rate", yLabel: "True positive rate")
        st.xDomain = 0...1
        st.yDomain = 0...1
        st.width = 480
        st.height = 440
        var diag = Series(name: "chance", x: [0, 1], y: [0, 1], dashed: true, color: "#999999")
        diag.showInLegend = false
        return LineChart(style: st, series: curves + [diag])
    }

    /// Risk (error rate among accepted) against coverage (fraction accepted).
    public static func riskCoverage(title: String, curves: [Series]) -> LineChart {
        var st = ChartStyle(
            title: title, xLabel: "Coverage (fraction accepted)", yLabel: "Risk (error rate of accepted)")
        st.xDomain = 0...1
        st.yDomain = Ticks.niceDomain(curves.flatMap(\.y) + [0], includeZero: true)
        return LineChart(style: st, series: curves)
    }

    /// Moving average over `window` points (to draw a readable trend over noisy per-iteration losses).
    public static func smoothed(_ s: Series, window: Int, name: String? = nil) -> Series {
        guard window > 1, s.y.count > 1 else { return s }
        var out = [Double](), sum = 0.0
        for i in s.y.indices {
            sum += s.y[i]
            if i >= window { sum -= s.y[i - window] }
            out.append(sum / Double(min(i + 1, window)))
        }
        return Series(name: name ?? s.name, x: s.x, y: out)
    }
}
