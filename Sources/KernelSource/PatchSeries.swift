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

    /// Parses a series file's text; `source` names it in errors.
    public init(parsing text: String, source: String) throws(KernelSourceError) {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let path = words.first else { continue }
            var strip = 1
            for option in words.dropFirst() {
                guard option.hasPrefix("-p"), let value = Int(option.dropFirst(2)), value >= 0 else {
                    throw .badSeriesLine(file: source, line: index + 1, text: String(rawLine),
                                         reason: "unknown option \(option); only -pN is understood")
                }
                strip = value
            }
            entries.append(Entry(path: String(path), strip: strip, line: index + 1))
        }
        self.entries = entries
    }
}
