extension Dictionary where Key: RawRepresentable, Key.RawValue == String {
    /// The same dictionary keyed by the keys' names (scores, verdicts), for JSONSerialization, which takes string
    /// keys only.
    var byName: [String: Value] {
        Dictionary<String, Value>(uniqueKeysWithValues: map { ($0.key.rawValue, $0.value) })
    }
}
