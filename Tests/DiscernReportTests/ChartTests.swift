import XCTest
import DiscernTestSupport
@testable import DiscernReport

/// Charts are checked against hand-computed pixel positions. Default layout: 640×380, margins
/// top 44, right 24, bottom 54, left 68 → plot x 68…616 (548 px), y 44…326 (282 px, inverted).
final class ChartTests: XCTestCase {
    func style(_ x: ClosedRange<Double>? = nil, _ y: ClosedRange<Double>? = nil, title: String = "t") -> ChartStyle {
        var s = ChartStyle(title: title, xLabel: "x", yLabel: "y")
        s.xDomain = x
        s.yDomain = y
        return s
    }

    func testLinePointsMapToPixels() {
        let chart = LineChart(
            style: style(0...10, 0...1), series: [Series(name: "loss", x: [0, 5, 10], y: [1, 0.5, 0.25])])
        let svg = XMLProbe.parse(chart.svg())
        let line = svg.all("polyline", where: "data-name", "loss")
        XCTAssertEqual(line.count, 1)
        let p = line[0].points
        XCTAssertEqual(p.map(\.0), [68, 342, 616])
        XCTAssertEqual(p.map(\.1), [44, 185, 255.5])
        XCTAssertEqual(svg.all("title").first?.text, "t")
        // y ticks 0, 0.2, …, 1 with one-decimal labels, at the right heights.
        let labels = svg.all("text", where: "text-anchor", "end").map(\.text)
        XCTAssertEqual(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let grid = svg.all("line", where: "class", "grid").map { $0.num("y1") }
        XCTAssertEqual(grid, [326, 269.6, 213.2, 156.8, 100.4, 44])
    }

    func testNonFinitePointsBreakTheLine() {
        let chart = LineChart(
            style: style(0...3, 0...1), series: [Series(name: "a", x: [0, 1, 2, 3], y: [0, .nan, 1, 1])])
        let lines = XMLProbe.parse(chart.svg()).all("polyline")
        XCTAssertEqual(lines.map { $0.points.count }, [1, 2])
    }

    func testHistogramCountsFollowNumpy() {
        // numpy.histogram([0, .1, .5, 1, 1.5], bins=2, range=(0, 1)) -> [2, 2]: right edge in the last bin, 1.5
        // dropped.
        XCTAssertEqual(HistogramChart.counts([0, 0.1, 0.5, 1, 1.5], bins: 2, range: 0...1), [2, 2])
        XCTAssertEqual(HistogramChart.counts([0.2, 0.25, 0.3, 0.99], bins: 4, range: 0...1), [1, 2, 0, 1])
    }

    func testHistogramBarsDensityAndZoom() {
        var h = HistogramChart(style: style(0...1, nil), groups: [("cat", [0, 0.1, 0.2, 0.7])])
        h.bins = 2
        h.range = 0...1
        // density: bin 0 has 3 of 4 in width 0.5 → 1.5; bin 1 → 0.5.
        XCTAssertEqual(h.heights(), [[1.5, 0.5]])
        h.style.yDomain = 0...2
        var rects = XMLProbe.parse(h.svg()).all("rect").filter { $0.attributes["data-value"] != nil }
        XCTAssertEqual(rects.map { $0.num("x") }, [68, 342])
        XCTAssertEqual(rects.map { $0.num("width") }, [274, 274])
        XCTAssertEqual(rects.map { $0.num("y") }, [114.5, 255.5])    // 326 − 282·(1.5/2), 326 − 282·(0.5/2)
        XCTAssertEqual(rects.map { $0.num("height") }, [211.5, 70.5])
        // Zoomed: the axis stops at 1; the tall bar is cut at the top and flagged.
        h.style.yDomain = nil
        h.yMax = 1
        rects = XMLProbe.parse(h.svg()).all("rect").filter { $0.attributes["data-value"] != nil }
        XCTAssertEqual(rects.map { $0.num("y") }, [44, 185])
        XCTAssertEqual(rects.map { $0.attributes["class"] }, ["clipped", nil])
    }

    func testHistogramCurvesAndThreshold() {
        var h = HistogramChart(style: style(0...4, 0...1), groups: [("a", [1, 2]), ("b <x>", [3])])
        h.curves = [Series(name: "KDE a", x: [0, 4], y: [0, 1])]
        h.thresholds = [(2, "threshold 2")]
        let svg = XMLProbe.parse(h.svg())
        XCTAssertEqual(svg.all("polyline", where: "data-name", "KDE a").first?.points.map(\.0), [68, 616])
        let t = svg.all("line", where: "class", "threshold")
        XCTAssertEqual(t.map { $0.num("x1") }, [342])
        XCTAssertEqual(svg.all("g", where: "class", "bars").map { $0.attributes["data-name"] }, ["a", "b <x>"])
        XCTAssertTrue(
            svg.all("text").contains { $0.text == "b <x>" }, "legend names are escaped, then parsed back intact")
    }

    func testROCHasDiagonalAndUnitAxes() {
        let roc = LineChart.roc(
            title: "ROC", curves: [Series(name: "msp (AUROC 0.96)", x: [0, 0.1, 1], y: [0, 0.9, 1])])
        // 480×440 → plot x 68…456 (388 px), y 44…386 (342 px).
        let svg = XMLProbe.parse(roc.svg())
        XCTAssertEqual(
            svg.all("polyline", where: "data-name", "msp (AUROC 0.96)").first?.points.map(\.0), [68, 106.8, 456])
        XCTAssertEqual(
            svg.all("polyline", where: "data-name", "msp (AUROC 0.96)").first?.points.map(\.1), [386, 78.2, 44])
        let diag = svg.all("polyline", where: "data-name", "chance").first
        XCTAssertEqual(diag?.attributes["stroke-dasharray"], "6 4")
        XCTAssertFalse(svg.all("text").contains { $0.text == "chance" }, "diagonal stays out of the legend")
    }

    func testRiskCoverageStartsAtZeroRisk() {
        let rc = LineChart.riskCoverage(title: "RC", curves: [Series(name: "density", x: [0.5, 1], y: [0.01, 0.03])])
        XCTAssertEqual(rc.style.yDomain, 0...0.03)
        XCTAssertEqual(rc.style.xDomain, 0...1)
        _ = XMLProbe.parse(rc.svg())
    }

    func testScatterGroupsAndShapes() {
        let sc = ScatterChart(
            style: style(0...1, 0...1), groups: ["correct", "apparent"],
            points: [.init(x: 0.5, y: 0.5, group: 0), .init(x: 1, y: 0, group: 1), .init(x: .nan, y: 1, group: 0)])
        let svg = XMLProbe.parse(sc.svg())
        let circles = svg.all("circle").map { [$0.num("cx"), $0.num("cy")] }
        XCTAssertEqual(circles.count, 2, "one data point (the NaN one is skipped) and one legend key")
        XCTAssertEqual(circles.first, [342, 185])
        let squares = svg.all("rect").filter { $0.attributes["transform"]?.hasPrefix("translate(-") == true }
        XCTAssertEqual(squares.first.map { [$0.num("x"), $0.num("y")] }, [616, 326])
        XCTAssertEqual(svg.all("g", where: "class", "points").count, 2)
    }

    func testBarChartHeights() {
        var st = style(nil, 0...10)
        st.title = "bars"
        let b = BarChart(style: st, categories: ["high", "mid", "low"], series: [("test", [5, 0, 10])])
        let rects = XMLProbe.parse(b.svg()).all("rect").filter { $0.attributes["data-value"] != nil }
        // Category i spans data [i, i+1) → 548/3 px; one series → bar is 80% of it, starting 10% in.
        XCTAssertEqual(rects.map { $0.num("height") }, [141, 0, 282])
        XCTAssertEqual(rects[0].num("x"), 68 + 548.0 / 3 * 0.1, accuracy: 0.01)
        XCTAssertEqual(rects[2].num("y"), 44)
    }

    func testConfusionHeatmapCells() {
        let hm = ConfusionHeatmap(title: "Confusion <test>", classes: ["cat", "dog"], counts: [[9, 1], [0, 10]])
        let svg = XMLProbe.parse(hm.svg())
        let cells = svg.all("rect", where: "class", "cell")
        XCTAssertEqual(cells.count, 4)
        XCTAssertEqual(cells.map { $0.attributes["fill"]! }, ["#20447a", "#dfe7f0", "#f7fbff", "#08306b"])
        XCTAssertTrue(svg.all("text").map(\.text).contains("90.0%"))
        XCTAssertEqual(svg.all("title").first?.text, "Confusion <test>")
    }

    func testFormatting() {
        XCTAssertEqual(Markup.number(1234.5678), "1235")
        XCTAssertEqual(Markup.number(0.012345), "0.0123")
        XCTAssertEqual(Markup.number(0.5), "0.5")
        XCTAssertEqual(Markup.number(-1.25e7), "-1.25e+07")
        XCTAssertEqual(Markup.number(2e-7), "2e-07")
        XCTAssertEqual(Markup.percent(0.98612), "98.6%")
        XCTAssertEqual(Captions.softmax([0.284, 0.716], classes: ["Cat", "Dog"]), "28% Cat, 72% Dog")
        XCTAssertEqual(Ticks.niceDomain([0.13, 0.87]), 0.1...0.9)
        XCTAssertEqual(Ticks.values(0...1).values.count, 6)
        XCTAssertEqual(Markup.escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")
    }
}

final class DegenerateChartTests: XCTestCase {
    /// Empty, constant and non-finite data must still give well-formed SVG (no crash, no NaN coordinates).
    func testDegenerateInputs() {
        let st = ChartStyle(title: "empty")
        let svgs = [
            LineChart(style: st, series: []).svg(),
            LineChart(style: st, series: [Series(name: "c", y: [2, 2, 2])]).svg(),
            LineChart(style: st, series: [Series(name: "n", y: [.nan, .infinity])]).svg(),
            HistogramChart(style: st, groups: []).svg(),
            HistogramChart(style: st, groups: [("same", [3, 3, 3]), ("none", [])]).svg(),
            ScatterChart(style: st, groups: ["g"], points: []).svg(),
            BarChart(style: st, categories: [], series: []).svg(),
            BarChart(style: st, categories: ["a"], series: [("s", [-.infinity])]).svg(),
            ConfusionHeatmap(title: "e", classes: ["a", "b"], counts: [[0, 0], [0, 0]]).svg(),
            LineChart.riskCoverage(title: "rc", curves: []).svg(),
        ]
        for s in svgs {
            _ = XMLProbe.parse(s)
            XCTAssertFalse(s.contains("nan") || s.contains("inf"), s)
        }
    }
}
