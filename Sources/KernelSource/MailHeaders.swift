/// The header section of one mail message (RFC 5322): its fields in order, unfolded, with RFC 2047 encoded-words
/// decoded in the values.
///
/// Only what a patch mail needs is read: names and values. The header section ends at the first empty line (or
/// at the end of the input); a line that is neither a field nor a continuation ends it too, as mail readers that
/// meet a body without a separating blank line do.
public struct MailHeaders: Equatable, Sendable {
    public struct Field: Equatable, Sendable {
        public var name: String
        /// Unfolded (each line break before white space removed, the white space kept) and decoded.
        public var value: String
    }

    public var fields: [Field]

    public init(fields: [Field]) { self.fields = fields }

    /// The first field called `name` (compared without regard to ASCII case), or nil.
    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// Reads the header section at the start of `message`.
    public init(parsing message: some Collection<UInt8>) {
        self = MailHeaders.parse(Array(message)).headers
    }

    /// The headers and the offset of the body in `message`.
    static func parse(_ message: [UInt8]) -> (headers: MailHeaders, bodyStart: Int) {
        var fields: [(name: [UInt8], value: [UInt8])] = []
        var position = 0
        while position < message.count {
            let end = message[position...].firstIndex(of: 0x0a) ?? message.count
            var line = message[position..<end]
            if line.last == 0x0d { line = line.dropLast() }
            let next = min(end + 1, message.count)
            if line.isEmpty { return (MailHeaders(decoding: fields), next) }
            if line.first == 0x20 || line.first == 0x09 {
                // A continuation: unfolding removes the line break and keeps the white space.
                if !fields.isEmpty { fields[fields.count - 1].value += line }
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                      line[..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7f }) {
                var value = line[(colon + 1)...]
                while value.first == 0x20 || value.first == 0x09 { value = value.dropFirst() }
                fields.append((Array(line[..<colon]), Array(value)))
            } else if fields.isEmpty && line.starts(with: "From ".utf8) {
                // The mbox separator line of a `git format-patch` file: not a field.
            } else {
                return (MailHeaders(decoding: fields), position)
            }
            position = next
        }
        return (MailHeaders(decoding: fields), message.count)
    }

    private init(decoding raw: [(name: [UInt8], value: [UInt8])]) {
        fields = raw.map { Field(name: String(decoding: $0.name, as: UTF8.self), value: EncodedWords.decode($0.value)) }
    }
}

/// RFC 2047 encoded-words (`=?UTF-8?q?caf=C3=A9?=`, `=?utf-8?B?Y2Fmw6k=?=`) in a header value.
///
/// UTF-8, US-ASCII and ISO-8859-1 are decoded, in the Q and B encodings; an encoded-word in another charset, or one
/// that does not decode, is kept as written. White space between two adjacent encoded-words is dropped, as the RFC
/// says; other text is read as UTF-8.
public enum EncodedWords {
    public static func decode(_ value: some Collection<UInt8>) -> String {
        let bytes = Array(value)
        // Plain runs and decoded words in order; a plain run of white space between two words is dropped.
        var pieces: [(encoded: Bool, text: String, blank: Bool)] = []
        var plain: [UInt8] = []
        func endPlain() {
            if !plain.isEmpty {
                pieces.append((false, String(decoding: plain, as: UTF8.self), plain.allSatisfy { $0 == 0x20 || $0 == 0x09 }))
            }
            plain = []
        }
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "?"),
               let (decoded, end) = encodedWord(in: bytes, at: index) {
                endPlain()
                pieces.append((true, decoded, false))
                index = end
            } else {
                plain.append(bytes[index])
                index += 1
            }
        }
        endPlain()
        var result = ""
        for (position, piece) in pieces.enumerated() {
            let betweenWords = position > 0 && position + 1 < pieces.count && pieces[position - 1].encoded && pieces[position + 1].encoded
            if !(piece.blank && betweenWords) { result += piece.text }
        }
        return result
    }

    /// The encoded-word starting at `start` (`=?charset?encoding?text?=`), decoded, and the index after it.
    static func encodedWord(in bytes: [UInt8], at start: Int) -> (String, Int)? {
        // Find the three `?` that split it and the closing `?=`; an encoded-word holds no white space.
        var marks: [Int] = []
        var index = start + 2
        while index < bytes.count, marks.count < 2 {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 { return nil }
            if byte == UInt8(ascii: "?") { marks.append(index) }
            index += 1
        }
        guard marks.count == 2 else { return nil }
        var close = marks[1] + 1
        while close + 1 < bytes.count, !(bytes[close] == UInt8(ascii: "?") && bytes[close + 1] == UInt8(ascii: "=")) {
            if bytes[close] == 0x20 || bytes[close] == 0x09 { return nil }
            close += 1
        }
        guard close + 1 < bytes.count else { return nil }
        // RFC 2231 allows a language after the charset: `utf-8*en`.
        let charset = String(decoding: bytes[(start + 2)..<marks[0]], as: UTF8.self).lowercased()
            .split(separator: "*", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let encoding = bytes[(marks[0] + 1)..<marks[1]]
        let text = Array(bytes[(marks[1] + 1)..<close])
        guard encoding.count == 1 else { return nil }
        let raw: [UInt8]?
        switch encoding.first! | 0x20 {
        case UInt8(ascii: "q"): raw = decodeQ(text)
        case UInt8(ascii: "b"): raw = decodeBase64(text)
        default: raw = nil
        }
        guard let raw else { return nil }
        switch charset {
        case "utf-8", "utf8", "us-ascii":
            return (String(decoding: raw, as: UTF8.self), close + 2)
        case "iso-8859-1", "latin1", "iso8859-1":
            return (String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) })), close + 2)
        default:
            return nil
        }
    }

    /// The Q encoding: `_` is a space, `=XX` a byte in hexadecimal.
    static func decodeQ(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "_"): out.append(0x20)
            case UInt8(ascii: "="):
                guard index + 2 < text.count, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) else { return nil }
                out.append(high << 4 | low)
                index += 2
            default: out.append(text[index])
            }
            index += 1
        }
        return out
    }

    static func decodeBase64(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            if byte == UInt8(ascii: "=") { break }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            default: return nil
            }
            accumulator = (accumulator << 6 | UInt32(value)) & 0xffffff
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xff))
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
