import Foundation

/// One image of a grid: its bytes (PNG by default), a caption and an optional verdict marker.
public struct ImageCell: Sendable {
    public enum Marker: String, Sendable { case accept, reject }
    public var bytes: [UInt8]
    public var mimeType: String
    public var caption: String
    public var detail: String?
    public var marker: Marker?
    public init(
        bytes: [UInt8], mimeType: String = "image/png", caption: String, detail: String? = nil, marker: Marker? = nil
    ) {
        self.bytes = bytes
        self.mimeType = mimeType
        self.caption = caption
        self.detail = detail
        self.marker = marker
    }
}

/// The content of one report section, built in order. Text arguments are escaped; only
/// `svg`/`rawHTML` arguments are inserted as given (they come from this library or the caller's code).
public struct ReportSection: Sendable {
    public let title: String
    public let id: String
    public private(set) var html = ""
    public private(set) var subheadings: [(title: String, id: String)] = []

    init(title: String, id: String) {
        self.title = title
        self.id = id
    }

    public mutating func paragraph(_ text: String) { html += "<p>\(Markup.escape(text))</p>\n" }

    /// A highlighted remark (e.g. what the data can and cannot support).
    public mutating func note(_ text: String) { html += "<div class=\"note\">\(Markup.escape(text))</div>\n" }

    public mutating func subheading(_ text: String) {
        let sid = HTMLReport.slug(id + " " + text, taken: Set(subheadings.map(\.id)))
        subheadings.append((text, sid))
        html += "<h3 id=\"\(sid)\">\(Markup.escape(text))</h3>\n"
    }

    /// A table; cells that parse as numbers are right-aligned.
    public mutating func table(headers: [String], rows: [[String]], caption: String? = nil) {
        html += "<table>"
        if let caption { html += "<caption>\(Markup.escape(caption))</caption>" }
        html += "<thead><tr>" + headers.map { "<th>\(Markup.escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            html += "<tr>" + row.map { cell in
                let numeric = Double(cell.trimmingCharacters(in: CharacterSet(charactersIn: "%"))) != nil
                return numeric ? "<td class=\"num\">\(Markup.escape(cell))</td>" : "<td>\(Markup.escape(cell))</td>"
            }.joined() + "</tr>\n"
        }
        html += "</tbody></table>\n"
    }

    /// Label/value pairs (settings, timings).
    public mutating func keyValues(_ pairs: [(String, String)]) {
        html +=
            "<dl class=\"kv\">"
            + pairs.map { "<dt>\(Markup.escape($0.0))</dt><dd>\(Markup.escape($0.1))</dd>" }.joined() + "</dl>\n"
    }

    /// An inline SVG chart with a caption.
    public mutating func figure(svg: String, caption: String) {
        html += "<figure>\(svg)<figcaption>\(Markup.escape(caption))</figcaption></figure>\n"
    }

    /// Several charts side by side (they wrap on narrow screens).
    public mutating func figureRow(_ figures: [(svg: String, caption: String)]) {
        html +=
            "<div class=\"row\">"
            + figures.map { "<figure>\($0.svg)<figcaption>\(Markup.escape($0.caption))</figcaption></figure>" }.joined()
            + "</div>\n"
    }

    /// Images in a grid, each with its caption; accept/reject cells get a green/red frame and mark.
    public mutating func imageGrid(_ cells: [ImageCell], columns: Int = 4, caption: String? = nil) {
        guard !cells.isEmpty else {
            html += "<p class=\"empty\"><em>No images.</em></p>\n"
            return
        }
        html +=
            "<figure><div class=\"grid\" style=\"grid-template-columns:repeat(\(max(columns, 1)),minmax(0,1fr))\">\n"
        for cell in cells {
            let markerClass = cell.marker.map { " \($0.rawValue)" } ?? ""
            let mark = cell.marker.map { marker in
                "<span class=\"mark\">\(marker == .accept ? "✓ accept" : "✗ reject")</span> "
            } ?? ""
            let src = "data:\(Markup.escape(cell.mimeType));base64,\(Data(cell.bytes).base64EncodedString())"
            html +=
                "<figure class=\"cell\(markerClass)\"><img src=\"\(src)\""
                    + " alt=\"\(Markup.escape(cell.caption))\"/><figcaption>\(mark)\(Markup.escape(cell.caption))"
            if let detail = cell.detail { html += "<span class=\"detail\">\(Markup.escape(detail))</span>" }
            html += "</figcaption></figure>\n"
        }
        html += "</div>"
        if let cap = caption { html += "<figcaption>\(Markup.escape(cap))</figcaption>" }
        html += "</figure>\n"
    }

    /// Trusted HTML inserted as is (e.g. produced by another section builder).
    public mutating func rawHTML(_ fragment: String) { html += fragment + "\n" }
}
