/// What the compiler said about a build: its warnings and errors, each with the file it is in, read from make's log.
///
/// gcc writes `PATH:LINE:COLUMN: warning: MESSAGE [-Wflag]` (the column may be missing); the kernel's build names
/// sources by the absolute path of its tree when building out of tree, so each path is made relative to the tree
/// (`drivers/md/md.c`), which is what a patch names. Context lines (`In function`, the quoted source, the caret) are
/// not diagnostics; kconfig's own `.config:12:warning:` lines are not the compiler's and are left out too.
public struct BuildDiagnostic: Equatable, Hashable, Sendable, Codable {
    public enum Severity: String, Sendable, Codable {
        case warning, error
    }

    /// Relative to the tree when it is inside it; as printed otherwise.
    public var file: String
    public var line: Int
    public var column: Int?
    public var severity: Severity
    /// The message without its `[-Wflag]`.
    public var message: String
    /// `-Wunused-variable`, when the compiler named the option.
    public var option: String?

    public init(file: String, line: Int, column: Int? = nil, severity: Severity, message: String, option: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
        self.option = option
    }

    /// What stays the same when the lines around it move: the file, the severity, the message and the option.
    /// Two builds' warnings are compared by this, so a patch that shifts an old warning down does not make it new.
    public var identity: String { "\(file)\t\(severity.rawValue)\t\(message)\t\(option ?? "")" }

    /// `drivers/md/md.c:9620:13: warning: unused variable 'x' [-Wunused-variable]`, as gcc prints it.
    public var text: String {
        "\(file):\(line):" + (column.map { "\($0):" } ?? "") + " \(severity.rawValue): \(message)" + (option.map { " [\($0)]" } ?? "")
    }

    /// The diagnostics in `log`, in order; `tree` is the source tree make compiled, for relative paths.
    public static func parse(log: String, tree: String) -> [BuildDiagnostic] {
        let prefixes = [tree.hasSuffix("/") ? tree : tree + "/"]
        return log.split(separator: "\n", omittingEmptySubsequences: true).compactMap { parse(line: $0, prefixes: prefixes) }
    }

    /// One log line as a diagnostic, or nil.
    static func parse(line: Substring, prefixes: [String]) -> BuildDiagnostic? {
        // Bounded: a diagnostic line is short; a huge line (a generated file dumped to the log) is not one.
        guard line.utf8.count < 8192 else { return nil }
        for marker in [(": warning: ", Severity.warning), (": error: ", Severity.error), (": fatal error: ", Severity.error)] {
            guard let range = line.range(of: marker.0) else { continue }
            let location = line[..<range.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
            // PATH:LINE or PATH:LINE:COLUMN, the numbers plain decimal.
            guard location.count == 2 || location.count == 3, !location[0].isEmpty, !location[0].contains(" "),
                  let lineNumber = number(location[1]) else { continue }
            let column = location.count == 3 ? number(location[2]) : nil
            if location.count == 3 && column == nil { continue }
            var message = line[range.upperBound...]
            var option: String?
            if message.hasSuffix("]"), let open = message.range(of: " [-W", options: .backwards) {
                option = String(message[message.index(open.lowerBound, offsetBy: 2)..<message.index(before: message.endIndex)])
                message = message[..<open.lowerBound]
            }
            // The tree's own prefix and `./`, as often as they come: printed again, the path must read the same.
            var file = Substring(location[0])
            while true {
                if file.hasPrefix("./") {
                    file.removeFirst(2)
                } else if let prefix = prefixes.first(where: { file.hasPrefix($0) }) {
                    file.removeFirst(prefix.count)
                } else {
                    break
                }
            }
            guard !file.isEmpty else { continue }
            return BuildDiagnostic(file: String(file), line: lineNumber, column: column, severity: marker.1, message: String(message), option: option)
        }
        return nil
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// The diagnostics of `candidate` in `files` that `baseline` did not have, by ``identity`` and count: a warning
    /// printed twice where the baseline printed it once is new once.
    public static func new(in candidate: [BuildDiagnostic], comparedWith baseline: [BuildDiagnostic], files: Set<String>) -> [BuildDiagnostic] {
        var remaining: [String: Int] = [:]
        for diagnostic in baseline where files.contains(diagnostic.file) { remaining[diagnostic.identity, default: 0] += 1 }
        var result: [BuildDiagnostic] = []
        for diagnostic in candidate where files.contains(diagnostic.file) {
            if let left = remaining[diagnostic.identity], left > 0 {
                remaining[diagnostic.identity] = left - 1
            } else {
                result.append(diagnostic)
            }
        }
        return result
    }
}

/// A build's diagnostics as kept beside its kernel in the cache (`diagnostics.json`), with the files whose compile
/// output they are sure to include.
public struct BuildDiagnosticsRecord: Equatable, Sendable, Codable {
    /// Files (relative to the tree) the build recompiled on purpose, so their diagnostics are all in the log: make
    /// prints nothing for an object it did not rebuild.
    public var recompiled: [String]
    public var diagnostics: [BuildDiagnostic]

    public init(recompiled: [String], diagnostics: [BuildDiagnostic]) {
        self.recompiled = recompiled
        self.diagnostics = diagnostics
    }

    /// Whether every one of `files` was recompiled in this build.
    public func covers(_ files: [String]) -> Bool { Set(files).isSubset(of: recompiled) }
}
