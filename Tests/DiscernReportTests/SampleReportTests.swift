import XCTest
import Foundation
import DiscernTestSupport
@testable import DiscernReport

/// Builds a report with every kind of figure the study needs, checks it is one well-formed,
/// self-contained file, and writes it to $DISCERN_SAMPLE_REPORT when set (to look at it).
final class SampleReportTests: XCTestCase {
    /// The first six cat photos of the shared test set (the test fails naming the folder when it is absent).
    func photos() throws -> [[UInt8]] {
        let dir = try TestEnvironment.datasets().appendingPathComponent("cats-and-dogs/test_set/cats")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".jpg") }.sorted()
        return try names.prefix(6).map { [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    func testSampleReport() throws {
        let imgs = try photos()
        XCTAssertEqual(imgs.count, 6)
        var rng = SystemRandomNumberGenerator()
        func normal(_ m: Double, _ s: Double) -> Double {
            let u = Double.random(in: 1e-9..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return m + s * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let iters = 500
        let loss = (0..<iters).map { 0.7 * exp(-Double($0) / 60) + 0.05 + abs(normal(0, 0.03)) }
        let acc = (0..<iters).map { min(1, 0.6 + 0.38 * (1 - exp(-Double($0) / 40)) + normal(0, 0.01)) }
        let cat = (0..<400).map { _ in normal(3, 1.2) }, dog = (0..<400).map { _ in normal(-3, 1.4) }
        let xs = stride(from: -8.0, through: 8, by: 0.1).map { $0 }
        let kde = { (m: Double, s: Double) in
            xs.map { exp(-($0 - m) * ($0 - m) / (2 * s * s)) / (s * (2 * .pi).squareRoot()) }
        }
        let softCat = cat.map { 1 / (1 + exp(-$0)) }, softDog = dog.map { 1 / (1 + exp(-$0)) }

        var r = HTMLReport(
            title: "Discern report", subtitle: "EfficientNet-Lite0 · cached features (K = 4 views) · sample data")
        r.section("Training") { s in
            s.keyValues([("epochs", "20"), ("batch size", "32"), ("train seconds", "41.2")])
            let lossSeries = Series(name: "loss", y: loss)
            s.figureRow([
                (
                    LineChart(
                        style: ChartStyle(title: "Loss per iteration", xLabel: "Iteration", yLabel: "Cross-entropy"),
                        series: [lossSeries, LineChart.smoothed(lossSeries, window: 25, name: "moving average (25)")]
                    ).svg(), "Training loss."
                ),
                (
                    LineChart(
                        style: ChartStyle(
                            title: "Running accuracy per iteration", xLabel: "Iteration", yLabel: "Accuracy"),
                        series: [Series(name: "running accuracy", y: acc)]
                    ).svg(), "Running accuracy within each epoch."
                )
            ])
        }
        r.section("Evaluation") { s in
            s.table(
                headers: ["set", "accuracy", "images"], rows: [["train", "0.993", "8005"], ["test", "0.986", "2023"]])
            s.figureRow([
                (
                    ConfusionHeatmap(
                        title: "Test confusion matrix", classes: ["cats", "dogs"], counts: [[996, 15], [13, 999]]
                    ).svg(), "Rows: true class."
                ),
                (
                    BarChart(
                        style: ChartStyle(title: "Errors by bucket", xLabel: "Wrong-class softmax", yLabel: "Images"),
                        categories: ["high > 0.7", "mid 0.6–0.7", "low < 0.6"],
                        series: [("train", [12, 3, 5]), ("test", [18, 4, 6])]
                    ).svg(), "Misclassifications."
                )
            ])
            var h = HistogramChart(
                style: ChartStyle(title: "Logit of class 'cat' by true class", xLabel: "Logit"),
                groups: [("true cat", cat), ("true dog", dog)])
            h.curves = [Series(name: "KDE cat", x: xs, y: kde(3, 1.2)), Series(name: "KDE dog", x: xs, y: kde(-3, 1.4))]
            h.thresholds = [(0, "decision 0")]
            s.figure(svg: h.svg(), caption: "Logit histograms with KDE curves.")
            var full = HistogramChart(
                style: ChartStyle(title: "Softmax score of 'cat'", xLabel: "Softmax"),
                groups: [("true cat", softCat), ("true dog", softDog)])
            full.range = 0...1
            full.density = false
            full.bins = 20
            var zoom = full
            zoom.style.title = "Softmax score of 'cat' (zoomed)"
            zoom.yMax = 20
            s.figureRow([(full.svg(), "Full y axis."), (zoom.svg(), "y axis clipped at 20; carets mark cut bars.")])
        }
        r.section("Unknown images") { s in
            let roc = LineChart.roc(
                title: "ROC: flowers vs test",
                curves: [
                    Series(name: "density (AUROC 0.93)", x: [0, 0.05, 0.2, 0.5, 1], y: [0, 0.5, 0.8, 0.95, 1]),
                    Series(name: "knn (AUROC 0.999)", x: [0, 0.01, 0.05, 1], y: [0, 0.97, 1, 1])
                ])
            let rc = LineChart.riskCoverage(
                title: "Risk–coverage",
                curves: [Series(name: "msp", x: [0.5, 0.7, 0.9, 1], y: [0.001, 0.003, 0.008, 0.014])])
            s.figureRow([(roc.svg(), "ROC curves."), (rc.svg(), "Risk against coverage.")])
            let pts = (0..<60).map { i in
                ScatterChart.Point(x: Double.random(in: 0.05...0.6), y: Double.random(in: 0.5...1), group: i % 3)
            }
            s.figure(
                svg: ScatterChart(
                    style: ChartStyle(
                        title: "Attention area vs confidence", xLabel: "Attention area (fraction ≥ 0.5)",
                        yLabel: "Softmax of predicted class"),
                    groups: ["correct", "apparent (high)", "understandable (low)"], points: pts
                ).svg(), caption: "Scatter.")
            let cells = imgs.enumerated().map { i, b in
                ImageCell(
                    bytes: b, mimeType: "image/jpeg", caption: Captions.softmax([0.28, 0.72], classes: ["Cat", "Dog"]),
                    detail: "logits 1.2, 2.1 · density 0.013", marker: i % 2 == 0 ? .reject : .accept)
            }
            s.imageGrid(cells, columns: 4, caption: "Test errors, high bucket.")
            s.note("With only a handful of errors the medians are indicative, not conclusive.")
        }
        let html = r.render()
        let doc = XMLProbe.parse(html)
        XCTAssertEqual(doc.all("svg").count, 10)
        for e in doc.elements {
            for k in ["src", "href"] { if let v = e.attributes[k] { XCTAssertFalse(v.hasPrefix("http"), v) } }
        }
        if let out = ProcessInfo.processInfo.environment["DISCERN_SAMPLE_REPORT"] {
            try r.write(to: URL(fileURLWithPath: out))
        }
    }
}
