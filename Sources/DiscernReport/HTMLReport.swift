import Foundation
import DiscernEngine

public enum ReportError: Error, CustomStringConvertible {
    case write(path: String, reason: String)
    public var description: String {
        switch self {
        case let .write(path, reason): return "\(path): \(reason)"
        }
    }
}

/// A self-contained HTML report: inline CSS, inline SVG, images as data URIs, no external assets.
public struct HTMLReport: Sendable {
    public var title: String
    public var subtitle: String?
    public private(set) var sections: [ReportSection] = []

    public init(title: String, subtitle: String? = nil) {
        self.title = title
        self.subtitle = subtitle
    }

    /// Appends a section; the table of contents lists it (and its subheadings).
    public mutating func section(_ title: String, id: String? = nil, _ build: (inout ReportSection) throws -> Void)
        rethrows
    {
        var section = ReportSection(title: title, id: id ?? Self.slug(title, taken: Set(sections.map(\.id))))
        try build(&section)
        sections.append(section)
    }

    /// A stable id from the title: lower-case ASCII letters and digits joined by "-", unique in the report.
    static func slug(_ title: String, taken: Set<String>) -> String {
        var out = ""
        var dash = false
        for scalar in title.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
                dash = false
            } else if !dash && !out.isEmpty {
                out += "-"
                dash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        if out.isEmpty { out = "section" }
        var id = out
        var suffix = 2
        while taken.contains(id) {
            id = "\(out)-\(suffix)"
            suffix += 1
        }
        return id
    }

    public func render() -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(Markup.escape(title))</title>
        <style>\(Self.css)</style></head><body><main>
        <h1>\(Markup.escape(title))</h1>

        """
        if let subtitle { html += "<p class=\"subtitle\">\(Markup.escape(subtitle))</p>\n" }
        html += "<nav class=\"toc\"><h2>Contents</h2><ol>\n"
        for section in sections {
            html += "<li><a href=\"#\(section.id)\">\(Markup.escape(section.title))</a>"
            if !section.subheadings.isEmpty {
                let items = section.subheadings.map { "<li><a href=\"#\($0.id)\">\(Markup.escape($0.title))</a></li>" }
                html += "<ol>" + items.joined() + "</ol>"
            }
            html += "</li>\n"
        }
        html += "</ol></nav>\n"
        for section in sections {
            html +=
                "<section id=\"\(section.id)\"><h2>\(Markup.escape(section.title))</h2>\n\(section.html)</section>\n"
        }
        return html + "</main></body></html>\n"
    }

    /// Writes through a temporary file and a rename.
    public func write(to url: URL) throws {
        do { try AtomicFile.write(Data(render().utf8), to: url) } catch {
            throw ReportError.write(path: url.path, reason: "\(error)")
        }
    }

    static let css = """
    body{margin:0;background:#f6f6f4;color:#1d1d1d;font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
    main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff}
    h1{font-size:28px;margin:8px 0 4px}\
    h2{font-size:21px;margin:36px 0 10px;border-bottom:2px solid #e8e8e8;padding-bottom:4px}
    h3{font-size:17px;margin:24px 0 8px}.subtitle{color:#555;margin-top:0}
    .toc{background:#fafafa;border:1px solid #e5e5e5;border-radius:6px;padding:4px 18px 10px;margin:16px 0}
    .toc h2{font-size:16px;border:0;margin:10px 0 4px}.toc ol{margin:0;padding-left:22px}\
    .toc a{color:#0b5cad;text-decoration:none}
    table{border-collapse:collapse;margin:10px 0 18px;font-size:14px}\
    caption{caption-side:top;text-align:left;color:#555;padding-bottom:4px}
    th,td{border:1px solid #ddd;padding:4px 10px;text-align:left}th{background:#f2f2f2}\
    td.num{text-align:right;font-variant-numeric:tabular-nums}
    tbody tr:nth-child(even){background:#fbfbfb}
    figure{margin:14px 0 22px}figure svg{max-width:100%;height:auto}\
    figcaption{color:#555;font-size:13.5px;margin-top:4px}
    .row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.row>figure{flex:1 1 300px;margin:6px 0}
    .grid{display:grid;gap:12px;margin:10px 0}.cell{margin:0;text-align:center}
    .cell img{width:100%;aspect-ratio:1/1;object-fit:contain;background:#f1f1f1;border-radius:3px;\
    border:3px solid transparent;box-sizing:border-box}
    .cell.accept img{border-color:#009E73}.cell.reject img{border-color:#D55E00}
    .cell figcaption{font-size:12.5px;color:#222;margin-top:2px}.cell .detail{display:block;color:#666;font-size:11.5px}
    .mark{font-weight:700}.accept .mark{color:#009E73}.reject .mark{color:#D55E00}
    .note{background:#fff8e6;border-left:4px solid #E69F00;padding:8px 12px;margin:12px 0}
    dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0 16px}dl.kv dt{color:#555}\
    dl.kv dd{margin:0}
    """
}
