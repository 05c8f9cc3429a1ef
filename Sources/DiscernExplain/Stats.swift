/// Small summaries used by the attention-area analysis.
public enum Stats {
    /// numpy.median: the mean of the middle two for even counts; nil when empty.
    public static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted(), m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}
