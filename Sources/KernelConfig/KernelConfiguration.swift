import Foundation

/// The value of one Kconfig symbol in a `.config` or a fragment.
public enum ConfigValue: Hashable, Sendable, CustomStringConvertible {
    /// `CONFIG_X=y`
    case yes
    /// `CONFIG_X=m`
    case module
    /// `# CONFIG_X is not set` (or `CONFIG_X=n`); also what an absent symbol means.
    case no
    /// `CONFIG_X=16`, `CONFIG_X=-1`, `CONFIG_X=0x1000000`, kept as written.
    case number(String)
    /// `CONFIG_X="text"`, unquoted and unescaped.
    case string(String)

    /// The value as it appears after `=` in a `.config` (`n` for not set).
    public var description: String {
        switch self {
        case .yes: "y"
        case .module: "m"
        case .no: "n"
        case .number(let text): text
        case .string(let text): "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
    }

    /// Parses the text after `=`; nil if it is not a value a `.config` can hold.
    public init?(parsing text: String) {
        switch text {
        case "y": self = .yes
        case "m": self = .module
        case "n": self = .no
        default:
            if text.hasPrefix("\"") {
                guard let unquoted = Self.unquote(text) else { return nil }
                self = .string(unquoted)
            } else if Self.isNumber(text) {
                self = .number(text)
            } else {
                return nil
            }
        }
    }

    /// The tristate level Kconfig uses in expressions: n = 0, m = 1, y = 2; other values count as n.
    var level: Int {
        switch self {
        case .yes: 2
        case .module: 1
        default: 0
        }
    }

    static func fromLevel(_ level: Int) -> ConfigValue {
        level >= 2 ? .yes : level == 1 ? .module : .no
    }

    private static func isNumber(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            return !digits.isEmpty && digits.allSatisfy(\.isHexDigit)
        }
        let digits = lower.hasPrefix("-") ? lower.dropFirst() : Substring(lower)
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }

    private static func unquote(_ text: String) -> String? {
        var result = ""
        var escaped = false
        var closed = false
        for character in text.dropFirst() {
            if closed { return nil }
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                closed = true
            } else {
                result.append(character)
            }
        }
        return closed ? result : nil
    }
}

/// A parsed `.config` or config fragment: symbols in file order with their values, plus the comments and blank
/// lines around them, so that rendering gives back the text that was parsed (except that `CONFIG_X=n` is written
/// `# CONFIG_X is not set`, as Kconfig writes it, and the last line always ends with a newline).
///
/// Symbols are named without the `CONFIG_` prefix (`9P_FS`), as in Kconfig files; lookups accept either spelling.
public struct KernelConfiguration: Equatable, Sendable, CustomStringConvertible {
    /// One line of the file.
    public enum Line: Equatable, Sendable {
        case setting(symbol: String, value: ConfigValue)
        /// A comment (including the `#`) or a blank line, kept verbatim.
        case other(String)
    }

    /// Where the configuration came from (a path, or a name given by the caller); used in messages.
    public var origin: String
    /// Every line, in order.
    public private(set) var lines: [Line]

    /// An empty configuration.
    public init(origin: String = "<memory>") {
        self.origin = origin
        self.lines = []
    }

    /// Parses `.config` text. Comments and blank lines are kept; `# CONFIG_X is not set` and `CONFIG_X=n` mean `n`.
    /// - Throws: `KernelConfigurationError` naming `origin:line` for a line that is neither a comment nor
    ///   `CONFIG_SYMBOL=value`.
    public init(parsing text: String, origin: String = "<memory>") throws {
        self.origin = origin
        self.lines = []
        // Split on the byte: a distro .config has over 10,000 lines, and the sandbox reads one at every start.
        var rows = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if rows.last?.isEmpty == true { rows.removeLast() }
        lines.reserveCapacity(rows.count)
        for (index, bytes) in rows.enumerated() {
            let raw = String(Substring(bytes))
            let row = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            lines.append(try Self.parseLine(row, at: index + 1, origin: origin))
        }
    }

    /// Reads and parses a `.config` or fragment file.
    public init(contentsOf url: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw KernelConfigurationError(origin: url.path, line: nil, message: "cannot read the file (\(error.localizedDescription)); check the path")
        }
        try self.init(parsing: text, origin: url.path)
    }

    /// The settings in file order. A symbol set twice appears twice; the later one is the one that counts.
    public var settings: [(symbol: String, value: ConfigValue)] {
        lines.compactMap {
            if case .setting(let symbol, let value) = $0 { (symbol, value) } else { nil }
        }
    }

    /// The distinct symbols in the order they first appear.
    public var symbols: [String] {
        var seen = Set<String>()
        return settings.map(\.symbol).filter { seen.insert($0).inserted }
    }

    /// The value a symbol has here (the last setting wins), or nil if the file does not mention it.
    public subscript(symbol: String) -> ConfigValue? {
        get {
            let name = Self.bareName(symbol)
            for line in lines.reversed() {
                if case .setting(name, let value) = line { return value }
            }
            return nil
        }
        set {
            let name = Self.bareName(symbol)
            guard let newValue else {
                remove(name)
                return
            }
            if let index = lines.lastIndex(where: { if case .setting(name, _) = $0 { true } else { false } }) {
                lines[index] = .setting(symbol: name, value: newValue)
            } else {
                lines.append(.setting(symbol: name, value: newValue))
            }
        }
    }

    /// The value the kernel sees: a symbol this configuration does not mention is `n`.
    public func value(of symbol: String) -> ConfigValue {
        self[symbol] ?? .no
    }

    /// Whether the symbol is built in (`=y`).
    public func isBuiltIn(_ symbol: String) -> Bool { self[symbol] == .yes }

    /// Whether the symbol is built in or a module (`=y` or `=m`).
    public func isEnabled(_ symbol: String) -> Bool {
        let value = self[symbol]
        return value == .yes || value == .module
    }

    /// Removes every setting of `symbol`.
    public mutating func remove(_ symbol: String) {
        let name = Self.bareName(symbol)
        lines.removeAll { if case .setting(name, _) = $0 { true } else { false } }
    }

    /// Appends lines (used by the merge, which keeps a fragment's comments like merge_config.sh does).
    public mutating func append(_ newLines: [Line]) {
        lines.append(contentsOf: newLines)
    }

    /// The `.config` text: `CONFIG_X=value` lines, `# CONFIG_X is not set` for `n`, comments as they were.
    public var rendered: String {
        lines.map { line in
            switch line {
            case .setting(let symbol, .no): "# CONFIG_\(symbol) is not set"
            case .setting(let symbol, let value): "CONFIG_\(symbol)=\(value)"
            case .other(let text): text
            }
        }.map { $0 + "\n" }.joined()
    }

    public var description: String { rendered }

    /// Equality is on the lines, not the origin.
    public static func == (lhs: KernelConfiguration, rhs: KernelConfiguration) -> Bool {
        lhs.lines == rhs.lines
    }

    static func bareName(_ symbol: String) -> String {
        symbol.hasPrefix("CONFIG_") ? String(symbol.dropFirst(7)) : symbol
    }

    private static let notSetSuffix = " is not set"

    private static func parseLine(_ row: String, at number: Int, origin: String) throws -> Line {
        let scalars = row.unicodeScalars
        let paddedAtAnEdge = scalars.first.map(CharacterSet.whitespaces.contains) == true
            || scalars.last.map(CharacterSet.whitespaces.contains) == true
        let trimmed = paddedAtAnEdge ? row.trimmingCharacters(in: .whitespaces) : row
        if trimmed.isEmpty { return .other(row) }
        if trimmed.hasPrefix("#") {
            if trimmed.hasPrefix("# CONFIG_"), trimmed.hasSuffix(notSetSuffix) {
                let name = String(trimmed.dropFirst(9).dropLast(notSetSuffix.count))
                if isSymbolName(name) { return .setting(symbol: name, value: .no) }
            }
            return .other(row)
        }
        guard trimmed.hasPrefix("CONFIG_"), let equals = trimmed.firstIndex(of: "=") else {
            throw KernelConfigurationError(origin: origin, line: number,
                message: "expected CONFIG_SYMBOL=value or a # comment, found '\(trimmed)'")
        }
        let name = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 7)..<equals])
        guard isSymbolName(name) else {
            throw KernelConfigurationError(origin: origin, line: number,
                message: "'\(name)' is not a symbol name (letters, digits and _ only)")
        }
        let text = String(trimmed[trimmed.index(after: equals)...])
        guard let value = ConfigValue(parsing: text) else {
            throw KernelConfigurationError(origin: origin, line: number,
                message: "CONFIG_\(name) has the value '\(text)', which is not y, m, n, a number or a \"quoted string\"; quote strings and check for typos")
        }
        return .setting(symbol: name, value: value)
    }

    static func isSymbolName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }
}

/// A `.config` or fragment that could not be read or parsed.
public struct KernelConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The file (or the name given for in-memory text).
    public var origin: String
    /// The 1-based line, when the problem is on one line.
    public var line: Int?
    /// What is wrong and what to do.
    public var message: String

    public var description: String {
        if let line { "\(origin):\(line): \(message)" } else { "\(origin): \(message)" }
    }
}
