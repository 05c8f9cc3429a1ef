import XCTest
import DiscernTestSupport
import Foundation
@testable import DiscernReport

final class HTMLReportTests: XCTestCase {
    let hostile = "<script>alert('x')</script> & \"quoted\""

    func sampleReport(cells: [ImageCell]) -> HTMLReport {
        var r = HTMLReport(title: "Report " + hostile, subtitle: hostile)
        r.section("Training") { s in
            s.paragraph(hostile)
            s.keyValues([("backbone", hostile)])
            s.figure(
                svg: LineChart(style: ChartStyle(title: hostile), series: [Series(name: hostile, y: [1, 0.5, 0.2])])
                    .svg(),
                caption: hostile)
        }
        r.section("Errors") { s in
            s.subheading("Test set")
            s.table(headers: ["path", hostile], rows: [[hostile, "0.5"]], caption: hostile)
            s.imageGrid(cells, columns: 3, caption: hostile)
            s.note(hostile)
        }
        r.section("Errors") { s in s.paragraph("second section with the same title") }
        return r
    }

    func testHostileTextIsEscapedAndDocumentIsWellFormed() {
        let html = sampleReport(cells: [ImageCell(bytes: [1, 2, 3], caption: hostile)]).render()
        XCTAssertFalse(html.contains("<script"), "no live script element")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        let doc = XMLProbe.parse(html)
        XCTAssertTrue(doc.all("script").isEmpty)
        XCTAssertEqual(doc.all("h1").first?.text, "Report " + hostile, "the parsed text is the original text")
        XCTAssertEqual(doc.all("td").first?.text, hostile)
        XCTAssertEqual(doc.all("svg").count, 1)
    }

    func testSelfContainedWithDataURIs() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 255, 17]
        let cells = [ImageCell(bytes: png, caption: "28% Cat, 72% Dog", detail: "density 0.01", marker: .reject),
                     ImageCell(bytes: [9], mimeType: "image/jpeg", caption: "ok", marker: .accept),
                     ImageCell(bytes: [7], caption: "plain")]
        let html = sampleReport(cells: cells).render()
        let doc = XMLProbe.parse(html)
        for e in doc.elements {
            for key in ["src", "href"] {
                guard let v = e.attributes[key] else { continue }
                XCTAssertTrue(v.hasPrefix("#") || v.hasPrefix("data:"), "\(e.name) \(key)=\(v.prefix(40)) is external")
            }
        }
        XCTAssertFalse(html.lowercased().contains("url(http"), "no external CSS resources")
        XCTAssertTrue(doc.all("link").isEmpty)
        let imgs = doc.all("img")
        XCTAssertEqual(imgs.count, 3)
        let src = imgs[0].attributes["src"]!
        XCTAssertTrue(src.hasPrefix("data:image/png;base64,"))
        XCTAssertEqual(
            Data(base64Encoded: String(src.dropFirst("data:image/png;base64,".count))).map { [UInt8]($0) }, png)
        XCTAssertTrue(imgs[1].attributes["src"]!.hasPrefix("data:image/jpeg;base64,"))
        let figs = doc.all("figure").filter { $0.attributes["class"]?.hasPrefix("cell") == true }.map {
            $0.attributes["class"]!
        }
        XCTAssertEqual(figs, ["cell reject", "cell accept", "cell"])
        XCTAssertTrue(doc.all("figcaption").contains { $0.text == "✗ reject 28% Cat, 72% Dogdensity 0.01" })
    }

    func testTableOfContentsLinksToUniqueSectionIds() {
        let doc = XMLProbe.parse(sampleReport(cells: []).render())
        let ids = doc.elements.filter { ["section", "h3"].contains($0.name) }.compactMap { $0.attributes["id"] }
        XCTAssertEqual(ids, ["training", "errors", "errors-test-set", "errors-2"])
        let links = doc.all("a").compactMap { $0.attributes["href"] }
        XCTAssertEqual(links, ["#training", "#errors", "#errors-test-set", "#errors-2"])
        XCTAssertEqual(doc.all("td").filter { $0.attributes["class"] == "num" }.map(\.text), ["0.5"])
    }

    func testWriteIsAtomicAndReportsBadPaths() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = sampleReport(cells: [])
        try r.write(to: dir.appendingPathComponent("report.html"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["report.html"])
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8), r.render())
        XCTAssertThrowsError(try r.write(to: dir.appendingPathComponent("nope/report.html"))) {
            XCTAssertTrue(String(describing: $0).hasPrefix(dir.path + "/nope/report.html: "))
        }
    }
}
