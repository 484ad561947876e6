extension PatchSet.Patch {
    /// The files the patch changes, relative to the tree (its `strip` leading components removed), in the order the
    /// diff names them: both names of a renamed file, `/dev/null` left out. Read from the `---`/`+++` headers and
    /// git's `rename`/`copy` lines; hunk bodies are skipped by their line counts, so a removed line that reads
    /// `-- x` is not taken for a header.
    public var touchedFiles: [String] {
        var files: [String] = []
        func add(_ path: Substring, stripping: Int) {
            var path = path
            if let tab = path.firstIndex(of: "\t") { path = path[..<tab] }  // `+++ b/x.c\t2024-01-01 ...`
            guard path != "/dev/null" else { return }
            let components = path.split(separator: "/", omittingEmptySubsequences: false)
            guard components.count > stripping else { return }
            let kept = components.dropFirst(stripping)
            // Only a path inside the tree is a file the patch touches (git apply refuses the others).
            guard !kept.isEmpty, kept.first?.isEmpty == false, !kept.contains("..") else { return }
            let relative = kept.joined(separator: "/")
            if !files.contains(relative) { files.append(relative) }
        }
        var oldLeft = 0, newLeft = 0
        for line in message.split(separator: 0x0a, omittingEmptySubsequences: false) {
            let text = Substring(decoding: line, as: UTF8.self)
            if oldLeft > 0 || newLeft > 0 {
                switch text.first {
                case " ", nil: oldLeft -= 1; newLeft -= 1
                case "-": oldLeft -= 1
                case "+": newLeft -= 1
                case "\\": break  // `\ No newline at end of file`
                default: (oldLeft, newLeft) = (0, 0)  // a malformed hunk ends here
                }
                continue
            }
            if text.hasPrefix("@@ -"), let counts = Self.hunkCounts(text) {
                (oldLeft, newLeft) = counts
            } else if text.hasPrefix("--- ") || text.hasPrefix("+++ ") {
                add(text.dropFirst(4), stripping: strip)
            } else if text.hasPrefix("rename from ") || text.hasPrefix("rename to ") || text.hasPrefix("copy to ") {
                add(text.drop { $0 != " " }.dropFirst().drop { $0 != " " }.dropFirst(), stripping: 0)
            }
        }
        return files
    }

    /// The old and new line counts of `@@ -a[,b] +c[,d] @@` (a missing count is 1).
    static func hunkCounts(_ header: Substring) -> (Int, Int)? {
        let fields = header.split(separator: " ")
        guard fields.count >= 3, fields[1].hasPrefix("-"), fields[2].hasPrefix("+") else { return nil }
        func count(_ range: Substring) -> Int? {
            let parts = range.dropFirst().split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.count < 10 && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
            return parts.count == 2 ? Int(parts[1]) : 1
        }
        guard let old = count(fields[1]), let new = count(fields[2]) else { return nil }
        return (old, new)
    }
}
