import Foundation

/// Escaping and number formatting shared by the SVG and HTML builders.
public enum Markup {
    /// Escapes text for element content and quoted attribute values (HTML and XML).
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0.
                if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += " " } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    /// A coordinate in SVG: two decimals, no "-0".
    static func coord(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        let s = String(format: "%.2f", r == 0 ? 0 : r)
        return trimZeros(s)
    }

    static func trimZeros(_ s: String) -> String {
        guard s.contains("."), !s.contains("e") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t == "-0" ? "0" : t
    }

    /// A readable number: `digits` significant digits, plain notation for ordinary magnitudes.
    public static func number(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "–" : (v > 0 ? "∞" : "−∞") }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e6 || a < 1e-4 {
            let parts = String(format: "%.\(max(digits - 1, 0))e", v).split(separator: "e")
            return trimZeros(String(parts[0])) + "e" + parts[1]
        }
        let decimals = max(0, digits - 1 - Int(floor(log10(a))))
        return trimZeros(String(format: "%.\(decimals)f", v))
    }

    /// A tick label: as many decimals as the tick step needs.
    static func tick(_ v: Double, step: Double) -> String {
        if abs(v) >= 1e6 || (step < 1e-4 && v != 0) { return number(v, digits: 2) }
        let decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        let s = String(format: "%.\(decimals)f", abs(v) < step * 1e-9 ? 0 : v)
        return s
    }

    /// "37.5%" style, `decimals` after the point.
    public static func percent(_ fraction: Double, decimals: Int = 1) -> String {
        guard fraction.isFinite else { return "–" }
        return String(format: "%.\(decimals)f%%", fraction * 100)
    }
}

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
public enum Palette {
    public static let colors = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
    public static func color(_ i: Int) -> String { colors[((i % colors.count) + colors.count) % colors.count] }
    public static let accept = "#009E73"
    public static let reject = "#D55E00"
    public static let grid = "#e3e3e3"
    public static let axis = "#444444"
}

/// Softmax captions as the study wrote them under images: "28% Cat, 72% Dog".
public enum Captions {
    public static func softmax(_ probabilities: [Float], classes: [String]) -> String {
        zip(probabilities, classes).map { "\(Int((Double($0) * 100).rounded()))% \($1)" }.joined(separator: ", ")
    }
}
