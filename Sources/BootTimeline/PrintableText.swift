/// Text from the guest made safe to show: on a terminal, in a report, in XML.
///
/// The guest is not trusted, and its console lines and messages reach the user's terminal: an escape sequence
/// in them could retitle the window, move the cursor or worse. Control characters (C0 except tab, DEL, and the
/// C1 range that some terminals act on in UTF-8 too) are shown as `\xNN`/`\u{NN}` instead; bytes that are not
/// UTF-8 become U+FFFD.
public enum PrintableText {
    /// One line of text from `bytes`, at most `limit` bytes of it (then `…`), line terminators dropped.
    public static func line<C: Collection>(_ bytes: C, limit: Int = .max) -> String where C.Element == UInt8 {
        var kept = Array(bytes.prefix(limit))
        while let last = kept.last, last == 0x0a || last == 0x0d { kept.removeLast() }
        let text = escape(String(decoding: kept, as: UTF8.self))
        return bytes.count > limit ? text + "…" : text
    }

    /// `text` with its control characters escaped.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                let hex = String(scalar.value, radix: 16)
                result += scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (value < 0x20 && value != 0x09) || (0x7f...0x9f).contains(value)
    }
}
