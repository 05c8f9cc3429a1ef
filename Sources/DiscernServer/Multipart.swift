import Foundation

/// A strict, bounded multipart/form-data parser (RFC 7578) for buffered request bodies.
/// Only what browsers and curl send: CRLF line ends, `Content-Disposition: form-data; name=...`.
/// Anything else is a 400 with a message saying what was wrong.
enum Multipart {
    struct Part: Equatable {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    static let maxHeaderBytes = 8 * 1024

    /// The boundary parameter of a `multipart/form-data` content type, or nil for other types.
    static func boundary(contentType: String) throws -> String? {
        let items = contentType.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
        guard let type = items.first, type.lowercased() == "multipart/form-data" else { return nil }
        for item in items.dropFirst() {
            guard let eq = item.firstIndex(of: "=") else { continue }
            guard item[..<eq].trimmingCharacters(in: " \t").lowercased() == "boundary" else { continue }
            var value = String(item[item.index(after: eq)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = String(value.dropFirst().dropLast())
            }
            guard (1...70).contains(value.utf8.count) else {
                throw ServerError.badRequest("multipart boundary must be 1 to 70 characters")
            }
            return value
        }
        throw ServerError.badRequest("multipart/form-data without a boundary")
    }

    static func parse(_ body: [UInt8], boundary: String, maxParts: Int) throws -> [Part] {
        let dash = Array("--\(boundary)".utf8)
        let delimiter = Array("\r\n--\(boundary)".utf8)
        // The body starts with the first delimiter (a preamble before it is allowed by the RFC).
        var pos: Int
        if body.starts(with: dash) {
            pos = dash.count
        } else if let start = find(delimiter, in: body, from: 0) {
            pos = start + delimiter.count
        } else {
            throw ServerError.badRequest("multipart body has no boundary line")
        }
        var parts: [Part] = []
        while true {
            if matches(Array("--".utf8), in: body, at: pos) { return parts }   // closing delimiter
            guard matches(Array("\r\n".utf8), in: body, at: pos) else {
                throw ServerError.badRequest("malformed multipart boundary line")
            }
            pos += 2
            guard parts.count < maxParts else { throw ServerError.badRequest("more than \(maxParts) multipart parts") }
            let headerLimit = min(body.count, pos + maxHeaderBytes)
            guard let headerEnd = find(Array("\r\n\r\n".utf8), in: body, from: pos, to: headerLimit) else {
                throw ServerError.badRequest("multipart part headers missing or longer than \(maxHeaderBytes) bytes")
            }
            var part = try parseHeaders(Array(body[pos..<headerEnd]))
            let start = headerEnd + 4
            guard let end = find(delimiter, in: body, from: start) else {
                throw ServerError.badRequest("multipart body is truncated (no closing boundary)")
            }
            part.body = Array(body[start..<end])
            parts.append(part)
            pos = end + delimiter.count
        }
    }

    private static func parseHeaders(_ bytes: [UInt8]) throws -> Part {
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw ServerError.badRequest("multipart headers are not UTF-8")
        }
        var part = Part(name: "", filename: nil, contentType: nil, body: [])
        var sawDisposition = false
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw ServerError.badRequest("malformed multipart header line")
            }
            let key = line[..<colon].trimmingCharacters(in: " \t").lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch key {
            case "content-disposition":
                let params = parameters(value)
                guard params.type == "form-data", let name = params.values["name"] else {
                    throw ServerError.badRequest("multipart part is not form-data with a name")
                }
                part.name = name
                part.filename = params.values["filename"]
                sawDisposition = true
            case "content-type": part.contentType = value
            default: continue   // e.g. Content-Transfer-Encoding: irrelevant for binary parts
            }
        }
        guard sawDisposition else { throw ServerError.badRequest("multipart part without Content-Disposition") }
        return part
    }

    /// `form-data; name="image"; filename="a.jpg"` -> ("form-data", [name: image, filename: a.jpg]).
    private static func parameters(_ value: String) -> (type: String, values: [String: String]) {
        var values: [String: String] = [:]
        var rest = Substring(value)
        let type = String(rest.prefix { $0 != ";" }).trimmingCharacters(in: " \t").lowercased()
        rest = rest.drop { $0 != ";" }
        while rest.first == ";" {
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            let key = String(rest.prefix { $0 != "=" && $0 != ";" }).lowercased()
            rest = rest.dropFirst(key.count)
            var val = ""
            if rest.first == "=" {
                rest = rest.dropFirst()
                if rest.first == "\"" {
                    rest = rest.dropFirst()
                    while let character = rest.first, character != "\"" {
                        if character == "\\", rest.count > 1 { rest = rest.dropFirst() }
                        val.append(rest.first!)
                        rest = rest.dropFirst()
                    }
                    rest = rest.dropFirst()
                } else {
                    val = String(rest.prefix { $0 != ";" }).trimmingCharacters(in: " \t")
                }
                rest = rest.drop { $0 != ";" }
            }
            if !key.isEmpty { values[key.trimmingCharacters(in: " \t")] = val }
        }
        return (type, values)
    }

    static func matches(_ needle: [UInt8], in hay: [UInt8], at pos: Int) -> Bool {
        pos + needle.count <= hay.count && hay[pos..<pos + needle.count].elementsEqual(needle)
    }

    /// First index of `needle` in `hay[from..<to]`.
    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int, to: Int? = nil) -> Int? {
        let end = (to ?? hay.count) - needle.count
        guard let first = needle.first, from <= end else { return nil }
        return hay.withUnsafeBufferPointer { bytes -> Int? in
            var i = from
            while i <= end {
                if bytes[i] == first, needle.indices.allSatisfy({ bytes[i + $0] == needle[$0] }) { return i }
                i += 1
            }
            return nil
        }
    }
}

private extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let trimmedStart = Substring(self).drop { set.contains($0) }
        var end = trimmedStart.endIndex
        while end > trimmedStart.startIndex, set.contains(trimmedStart[trimmedStart.index(before: end)]) {
            end = trimmedStart.index(before: end)
        }
        return String(trimmedStart[..<end])
    }
}
