/// Finds table headers that the TOML parser inside TOMLKit would abort the process on.
///
/// toml++ 3.4 asserts that a table header's name starts with a key character, so `[é]`, `[[{x}]]` or `[=` end the
/// process instead of failing to parse (fixed upstream: https://github.com/marzer/tomlplusplus/pull/301). Checking
/// the headers first turns them into an error naming the line. Only headers are looked at: a line that starts with
/// `[` inside a multi-line array or string is a value, so the check follows strings, comments and brackets.
enum TOMLHeaderCheck {
    /// The first table header whose name does not start with a bare-key character or a quote: its 1-based line and
    /// column (in bytes) and the character found there, escaped if it is a control character.
    static func firstUnnamedHeader(in text: String) -> (line: Int, column: Int, found: String)? {
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xef, 0xbb, 0xbf]) { bytes = bytes.dropFirst(3) }  // toml++ skips a byte-order mark
        var line = 1, lineStart = bytes.startIndex
        var depth = 0  // arrays and inline tables open in a value
        var atStatementStart = true
        var index = bytes.startIndex
        func isSpaceOrTab(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        func skipToLineEnd() { while index < bytes.endIndex, bytes[index] != 0x0a { index += 1 } }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x0a {
                index += 1
                line += 1
                lineStart = index
                atStatementStart = depth == 0
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
                    let found = String(decoding: bytes[name...].prefix(4), as: UTF8.self).prefix(1)
                    return (line, name - lineStart + 1, found.unicodeScalars.map { $0.escaped(asASCII: false) }.joined())
                }
                skipToLineEnd()  // a header is the whole line; what may follow it is a comment
                continue
            }
            atStatementStart = false
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): index = endOfString(in: bytes, at: index, line: &line, lineStart: &lineStart)
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; index += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1); index += 1
            default: index += 1
            }
        }
        return nil
    }

    /// Where a bare key or a quoted key may start.
    static func startsKey(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
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
