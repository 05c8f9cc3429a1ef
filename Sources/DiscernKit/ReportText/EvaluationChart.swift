import DiscernRobustness
import DiscernReport

/// `discern evaluate`'s picture (`verdict.svg`): for every labelled set its accuracy and, with a verdict, the share
/// of correct answers accepted and of errors flagged; for every unknown set the share rejected. One glance compares
/// the test photos with each `--shifted` and `--unknown` folder.
enum EvaluationChart {
    /// nil when there is nothing to draw.
    static func make(labelled: [(name: String, accuracy: Double, shift: ShiftReport?)],
                     unknown: [ModelEvaluation.UnknownResult]) -> BarChart? {
        guard !labelled.isEmpty || !unknown.isEmpty else { return nil }
        let hasVerdict = labelled.contains { $0.shift != nil } || !unknown.isEmpty
        let notLabelled = [Double](repeating: .nan, count: unknown.count)
        var series: [(name: String, values: [Double])] = [("accuracy", labelled.map(\.accuracy) + notLabelled)]
        if hasVerdict {
            series.append(("correct answers accepted",
                           labelled.map { $0.shift?.verdict.correctKept ?? .nan } + notLabelled))
            // A set without errors has none to flag: no bar rather than a full one.
            series.append(("errors flagged", labelled.map { set in
                set.shift.map { $0.errors > 0 ? $0.verdict.errorsFlagged : .nan } ?? .nan
            } + notLabelled))
            series.append(("unknown images rejected", [Double](repeating: .nan, count: labelled.count)
                           + unknown.map { 1 - ($0.verdictShares[.accept] ?? 0) }))
        }
        let categories = labelled.map(\.name) + unknown.map(\.name)
        var style = ChartStyle(title: hasVerdict ? "The verdict on each evaluated set" : "Accuracy on each evaluated set",
                               yLabel: "share")
        style.width = max(640, 96 * Double(categories.count) + 120)
        style.height = 420
        style.yDomain = 0...1.4       // headroom for the legend above the bars
        var chart = BarChart(style: style, categories: categories, series: series)
        chart.valueLabels = false
        return chart
    }
}
