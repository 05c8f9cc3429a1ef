import Foundation

/// Escaping and number formatting shared by the SVG and HTML builders.
public enum Markup {
    /// Escapes text for element content and quoted attribute values (HTML and XML).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" {
                    out += " "
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A coordinate in SVG: two decimals, no "-0".
    static func coord(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return trimZeros(String(format: "%.2f", rounded == 0 ? 0 : rounded))
    }

    static func trimZeros(_ number: String) -> String {
        guard number.contains("."), !number.contains("e") else { return number }
        var trimmed = number
        while trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed == "-0" ? "0" : trimmed
    }

    /// A readable number: `digits` significant digits, plain notation for ordinary magnitudes.
    public static func number(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "–" : (value > 0 ? "∞" : "−∞") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-4 {
            let parts = String(format: "%.\(max(digits - 1, 0))e", value).split(separator: "e")
            return trimZeros(String(parts[0])) + "e" + parts[1]
        }
        let decimals = max(0, digits - 1 - Int(floor(log10(magnitude))))
        return trimZeros(String(format: "%.\(decimals)f", value))
    }

    /// A tick label: as many decimals as the tick step needs.
    static func tick(_ value: Double, step: Double) -> String {
        if abs(value) >= 1e6 || (step < 1e-4 && value != 0) { return number(value, digits: 2) }
        let decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", abs(value) < step * 1e-9 ? 0 : value)
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
    public static func color(_ index: Int) -> String {
        colors[((index % colors.count) + colors.count) % colors.count]
    }
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
