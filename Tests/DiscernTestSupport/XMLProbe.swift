import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Parses markup with Foundation's XMLParser and keeps every element with its attributes and text.
public final class XMLProbe: NSObject, XMLParserDelegate {
    public struct Element: Sendable {
        public let name: String
        public let attributes: [String: String]
        public var text: String
    }
    public private(set) var elements: [Element] = []
    private var open: [Int] = []
    public private(set) var error: Error?

    public static func parse(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> XMLProbe {
        let probe = XMLProbe()
        let p = XMLParser(data: Data(s.utf8))
        p.delegate = probe
        let ok = p.parse()
        XCTAssertTrue(
            ok, "not well-formed XML: \(String(describing: p.parserError ?? probe.error))", file: file, line: line)
        return probe
    }

    public func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append(Element(name: name, attributes: attributes, text: ""))
        open.append(elements.count - 1)
    }
    public func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }
    public func parser(_ parser: XMLParser, foundCharacters s: String) { for i in open { elements[i].text += s } }
    public func parser(_ parser: XMLParser, parseErrorOccurred e: Error) { error = e }

    public func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    public func all(_ name: String, where key: String, _ value: String) -> [Element] {
        all(name).filter { $0.attributes[key] == value }
    }
}

extension XMLProbe.Element {
    public func num(_ key: String) -> Double { Double(attributes[key] ?? "") ?? .nan }
    /// "x,y x,y …" → pairs.
    public var points: [(Double, Double)] {
        (attributes["points"] ?? "").split(separator: " ").map { p in
            let xy = p.split(separator: ",").map { Double($0)! }
            return (xy[0], xy[1])
        }
    }
}
