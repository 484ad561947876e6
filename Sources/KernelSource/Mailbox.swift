/// An mbox (what `git format-patch --stdout` and `b4 am` write) split into its messages.
///
/// A message starts at a `From ` separator line. At the very start of the input any `From ` line is one; further
/// on, only a line shaped like a real separator (`From SENDER DATE`, with a `HH:MM` time and a year after it, the
/// test `git mailsplit` makes) is, so that a commit message line starting with "From " does not split a patch.
/// Lines quoted the mboxrd way (`>From `, `>>From `, ...) lose one `>`, which also reads mboxo's `>From ` right.
/// Text before the first separator, when not blank, is a message of its own (a single mail saved without one).
public enum Mailbox {
    /// One message: its bytes, from its separator line (kept, as a `git format-patch` file has it) to the next.
    public struct Message: Equatable, Sendable {
        /// The message, separator line included, with mboxrd quoting undone.
        public var bytes: [UInt8]
        /// The separator line, without its line end (nil for text before the first separator).
        public var separator: String?

        /// The commit a `git format-patch` separator names (`From 4f3c...e1 Mon Sep 17 00:00:00 2001`), or nil.
        public var commit: String? {
            guard let separator else { return nil }
            let words = separator.split(separator: " ")
            guard words.count >= 2, words[1].count == 40, words[1].allSatisfy(\.isHexDigit) else { return nil }
            return String(words[1])
        }
    }

    public static func messages(in mbox: some Collection<UInt8>) -> [Message] {
        let bytes = Array(mbox)
        var messages: [Message] = []
        var current: [UInt8] = []
        var separator: String?
        var position = 0
        func finish() {
            if separator != nil || current.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0a && $0 != 0x0d }) {
                messages.append(Message(bytes: current, separator: separator))
            }
        }
        while position < bytes.count {
            let end = bytes[position...].firstIndex(of: 0x0a).map { $0 + 1 } ?? bytes.count
            let line = bytes[position..<end]
            if line.starts(with: fromPrefix), position == 0 || isSeparator(line) {
                finish()
                current = Array(line)
                separator = String(decoding: line.prefix { $0 != 0x0a && $0 != 0x0d }, as: UTF8.self)
            } else if let quoted = unquoted(line) {
                current += quoted
            } else {
                current += line
            }
            position = end
        }
        finish()
        return messages
    }

    private static let fromPrefix = Array("From ".utf8)

    /// `From SENDER ... HH:MM[:SS] ... YEAR`, as `git mailsplit`'s `is_from_line` has it: the last colon has
    /// two digits after it and before it (and a digit two before those), and a year above 90 follows.
    static func isSeparator(_ rawLine: ArraySlice<UInt8>) -> Bool {
        var line = rawLine
        while line.last == 0x0a || line.last == 0x0d { line = line.dropLast() }
        let text = Array(line)
        guard text.count >= 20, text.starts(with: fromPrefix),
              let colon = text[5...].lastIndex(of: UInt8(ascii: ":")), colon >= 9, colon + 3 < text.count else { return false }
        func digit(_ index: Int) -> Bool { index < text.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]) }
        guard digit(colon - 4), digit(colon - 2), digit(colon - 1), digit(colon + 1), digit(colon + 2) else { return false }
        let yearText = text[(colon + 3)...].drop { $0 == 0x20 }.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard let year = Int(String(decoding: yearText.prefix(9), as: UTF8.self)) else { return false }
        return year > 90
    }

    /// A `>From `-quoted line (any number of `>`) with one `>` removed, or nil for any other line.
    static func unquoted(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let quotes = line.prefix { $0 == UInt8(ascii: ">") }
        guard !quotes.isEmpty, line[quotes.endIndex...].starts(with: fromPrefix) else { return nil }
        return line.dropFirst()
    }
}
