/// Finds what the TOML parser inside TOMLKit would abort the process on, so that it is an error naming the line.
///
/// toml++ 3.4 asserts, instead of failing to parse, in two places that take a character on trust: the start of a
/// table header's name (`[é]`, `[[{x}]]`, `[=`; fixed upstream in https://github.com/marzer/tomlplusplus/pull/301)
/// and the start of an array element (`x = [}]`). This scan finds both before toml++ sees the text. It follows
/// strings, comments, arrays and inline tables as TOML does, so a line that starts with `[` inside a multi-line
/// array or string is a value, not a header; what it does not check, toml++ reports as usual.
enum TOMLPreflight {
    struct Problem: Equatable {
        /// 1-based line, and column in bytes.
        var line: Int
        var column: Int
        /// What must come there, as the error says it.
        var expected: String
        /// The character found instead, escaped if it is a control character.
        var found: String

        var message: String { "\(expected), not with '\(found)' (line \(line), column \(column))" }
    }

    static let headerName = "a table header must start with its name, as in [kernel] or [\"name\"]"
    static let arrayElement = "an array element must start with a value, as in [\"a\", 1]"

    /// The first place toml++ would abort on, if there is one.
    static func firstProblem(in text: String) -> Problem? {
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xef, 0xbb, 0xbf]) { bytes = bytes.dropFirst(3) }  // toml++ skips a byte-order mark
        var line = 1, lineStart = bytes.startIndex
        var open: [UInt8] = []  // the arrays and inline tables the scan is in, innermost last
        var atStatementStart = true, expectingElement = false
        var index = bytes.startIndex
        func isSpaceOrTab(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        func skipToLineEnd() { while index < bytes.endIndex, bytes[index] != 0x0a { index += 1 } }
        func problem(at position: Int, _ expected: String) -> Problem {
            let found = String(decoding: bytes[position...].prefix(4), as: UTF8.self).prefix(1)
            return Problem(line: line, column: position - lineStart + 1, expected: expected,
                           found: found.unicodeScalars.map { $0.escaped(asASCII: false) }.joined())
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x0a {
                index += 1
                line += 1
                lineStart = index
                atStatementStart = open.isEmpty
                continue
            }
            if isSpaceOrTab(byte) || byte == 0x0d { index += 1; continue }
            if byte == UInt8(ascii: "#") { skipToLineEnd(); continue }
            if atStatementStart, byte == UInt8(ascii: "[") {
                var name = index + 1
                if name < bytes.endIndex, bytes[name] == UInt8(ascii: "[") { name += 1 }
                // Only spaces and tabs: toml++ takes a carriage return here for the name's first character.
                while name < bytes.endIndex, isSpaceOrTab(bytes[name]) { name += 1 }
                if name < bytes.endIndex, !startsKey(bytes[name]), bytes[name] != UInt8(ascii: "]") {
                    return problem(at: name, headerName)
                }
                skipToLineEnd()  // a header is the whole line; what may follow it is a comment
                continue
            }
            atStatementStart = false
            if expectingElement {
                expectingElement = false
                guard startsElement(byte) else { return problem(at: index, arrayElement) }
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index = endOfString(in: bytes, at: index, line: &line, lineStart: &lineStart)
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                open.append(byte)
                expectingElement = byte == UInt8(ascii: "[")
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                _ = open.popLast()
            case UInt8(ascii: ","):
                expectingElement = open.last == UInt8(ascii: "[")
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// Where a bare key or a quoted key may start.
    static func startsKey(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "\"")
            || byte == UInt8(ascii: "'")
    }

    /// Where an array element may start (any TOML value starts so), or the array end and the comma toml++ reports.
    static func startsElement(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || Array("\"'[{+-.],".utf8).contains(byte)
    }

    static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    /// The index after the string that opens at `start` (`"…"`, `'…'`, or their tripled multi-line forms), counting
    /// the lines a multi-line string spans. An unclosed single-line string ends at its line's end, as the parser's
    /// error does.
    static func endOfString(in bytes: ArraySlice<UInt8>, at start: Int, line: inout Int, lineStart: inout Int) -> Int {
        let quote = bytes[start]
        let escapes = quote == UInt8(ascii: "\"")
        let tripled = bytes[start...].starts(with: [quote, quote, quote])
        var index = start + (tripled ? 3 : 1)
        while index < bytes.endIndex {
            let byte = bytes[index]
            if escapes, byte == UInt8(ascii: "\\") {
                // Skip the escaped byte, unless it is a line end (a line-ending backslash): that line still counts.
                index += index + 1 < bytes.endIndex && bytes[index + 1] == 0x0a ? 1 : 2
                continue
            }
            if byte == 0x0a {
                guard tripled else { return index }
                line += 1
                lineStart = index + 1
            } else if byte == quote, !tripled {
                return index + 1
            } else if byte == quote, bytes[index...].starts(with: [quote, quote, quote]) {
                // Up to two quotes just before the closing three belong to the string: `"""a""""` is `a"`.
                var end = index + 3
                while end < bytes.endIndex, end < index + 5, bytes[end] == quote { end += 1 }
                return end
            }
            index += 1
        }
        return index
    }
}
