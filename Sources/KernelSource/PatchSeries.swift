/// A quilt `series` file: patches in the order they apply, one per line.
///
/// Each line is a patch path relative to the series file's directory, optionally followed by `-pN`;
/// `#` starts a comment; blank lines are ignored.
public struct PatchSeries: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// The patch file, relative to the series directory.
        public var path: String
        /// How many leading path components to strip (quilt's `-pN`, default 1).
        public var strip: Int
        /// The line in the series file, for error messages.
        public var line: Int

        public init(path: String, strip: Int = 1, line: Int) {
            self.path = path
            self.strip = strip
            self.line = line
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Parses a series file's text; `source` names it in errors. Lines may end with `\r\n`; `#`, blanks and line
    /// ends are matched as bytes, as quilt does.
    public init(parsing text: String, source: String) throws(KernelSourceError) {
        // On bytes, not Characters: "\r\n" is one Character, and so is "#" or " " with a combining mark after it.
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d }
        var entries: [Entry] = []
        for (index, rawLine) in text.utf8.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.prefix { $0 != UInt8(ascii: "#") }
            let words = line.split(whereSeparator: isBlank).map { String(decoding: $0, as: UTF8.self) }
            guard let path = words.first else { continue }
            var strip = 1
            for option in words.dropFirst() {
                guard option.hasPrefix("-p"), let value = Int(option.dropFirst(2)), value >= 0 else {
                    let text = String(decoding: rawLine.last == 0x0d ? rawLine.dropLast() : rawLine, as: UTF8.self)
                    throw .badSeriesLine(file: source, line: index + 1, text: text, reason: "unknown option \(option); only -pN is understood")
                }
                strip = value
            }
            entries.append(Entry(path: path, strip: strip, line: index + 1))
        }
        self.entries = entries
    }
}
