// A small JSON reader and compact writer for the vector tests: objects keep their key
// order and numbers their text, and the writer escapes strings as serde_json does, so
// `value.compact` is the byte-exact compact form the conformance suite compares. (Foundation's
// JSONSerialization forgets key order, so it cannot be used for a byte comparison.)

import Foundation

enum JSONError: Error {
    case syntax(String, Int)
}

indirect enum JSON {
    case object([(String, JSON)])
    case array([JSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    subscript(key: String) -> JSON? {
        if case .object(let members) = self {
            return members.first(where: { $0.0 == key })?.1
        }
        return nil
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var arrayValue: [JSON] {
        if case .array(let items) = self { return items }
        return []
    }

    var members: [(String, JSON)] {
        if case .object(let members) = self { return members }
        return []
    }

    static func parse(_ text: String) throws -> JSON {
        var parser = JSONParser(Array(text.unicodeScalars))
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.i == parser.s.count else { throw JSONError.syntax("trailing characters", parser.i) }
        return value
    }

    var compact: String {
        var out = ""
        JSON.write(self, into: &out)
        return out
    }

    private static func write(_ value: JSON, into out: inout String) {
        switch value {
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                writeString(member.0, into: &out)
                out += ":"
                write(member.1, into: &out)
            }
            out += "}"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .string(let s):
            writeString(s, into: &out)
        case .number(let text):
            out += text
        case .bool(let b):
            out += b ? "true" : "false"
        case .null:
            out += "null"
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

private struct JSONParser {
    let s: [Unicode.Scalar]
    var i = 0

    init(_ s: [Unicode.Scalar]) {
        self.s = s
    }

    func peek() throws -> Unicode.Scalar {
        guard i < s.count else { throw JSONError.syntax("unexpected end", i) }
        return s[i]
    }

    mutating func skipWhitespace() {
        while i < s.count, [0x20, 0x0A, 0x0D, 0x09].contains(s[i].value) { i += 1 }
    }

    mutating func value() throws -> JSON {
        switch try peek() {
        case "{": return try object()
        case "[": return try array()
        case "\"": return try .string(string())
        case "t": return try word("true", .bool(true))
        case "f": return try word("false", .bool(false))
        case "n": return try word("null", .null)
        default: return try number()
        }
    }

    mutating func word(_ w: String, _ value: JSON) throws -> JSON {
        for u in w.unicodeScalars {
            guard try peek() == u else { throw JSONError.syntax("unexpected token", i) }
            i += 1
        }
        return value
    }

    mutating func object() throws -> JSON {
        i += 1
        var members: [(String, JSON)] = []
        skipWhitespace()
        if try peek() == "}" {
            i += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard try peek() == "\"" else { throw JSONError.syntax("expected a key", i) }
            let key = try string()
            skipWhitespace()
            guard try peek() == ":" else { throw JSONError.syntax("expected ':'", i) }
            i += 1
            skipWhitespace()
            let v = try value()
            // A repeated key keeps its first place and takes the last value, as serde_json's
            // ordered map does.
            if let at = members.firstIndex(where: { $0.0 == key }) {
                members[at] = (key, v)
            } else {
                members.append((key, v))
            }
            skipWhitespace()
            switch try peek() {
            case ",": i += 1
            case "}":
                i += 1
                return .object(members)
            default: throw JSONError.syntax("expected ',' or '}'", i)
            }
        }
    }

    mutating func array() throws -> JSON {
        i += 1
        var items: [JSON] = []
        skipWhitespace()
        if try peek() == "]" {
            i += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value())
            skipWhitespace()
            switch try peek() {
            case ",": i += 1
            case "]":
                i += 1
                return .array(items)
            default: throw JSONError.syntax("expected ',' or ']'", i)
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= s.count else { throw JSONError.syntax("short \\u escape", i) }
        let text = String(String.UnicodeScalarView(s[i..<(i + 4)]))
        guard let v = UInt32(text, radix: 16) else { throw JSONError.syntax("bad \\u escape", i) }
        i += 4
        return v
    }

    mutating func string() throws -> String {
        i += 1
        var out = String.UnicodeScalarView()
        while true {
            let c = try peek()
            i += 1
            switch c {
            case "\"":
                return String(out)
            case "\\":
                let e = try peek()
                i += 1
                switch e {
                case "\"", "\\", "/": out.append(e)
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\u{0A}")
                case "r": out.append("\u{0D}")
                case "t": out.append("\u{09}")
                case "u":
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A surrogate pair: the low half must follow as another \u escape.
                        guard i + 1 < s.count, s[i] == "\\", s[i + 1] == "u" else {
                            throw JSONError.syntax("lone surrogate", i)
                        }
                        i += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw JSONError.syntax("bad code point", i) }
                    out.append(scalar)
                default:
                    throw JSONError.syntax("bad escape", i)
                }
            default:
                out.append(c)
            }
        }
    }

    mutating func number() throws -> JSON {
        let start = i
        while i < s.count, "+-0123456789.eE".unicodeScalars.contains(s[i]) { i += 1 }
        guard i > start else { throw JSONError.syntax("unexpected character", i) }
        return .number(String(String.UnicodeScalarView(s[start..<i])))
    }
}
