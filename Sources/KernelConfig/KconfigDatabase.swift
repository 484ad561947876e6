import Foundation

/// The symbols of a kernel tree's Kconfig files: types, prompts, dependencies and selects.
///
/// Parses the subset of the Kconfig language needed to explain dependencies: `config`/`menuconfig` blocks with
/// their types, prompts, `depends on`, `select`, `imply` and defaults; `if`/`endif`, `menu`/`endmenu` and
/// `choice`/`endchoice`, whose dependencies apply to the symbols inside; `source`, relative to the tree root with
/// `$(SRCARCH)` replaced by the architecture. Macro definitions (`x := …`) are skipped and `$(…)` calls in
/// expressions count as y; `range`, `visible if`, `option` and `modules` are read and ignored.
public struct KconfigDatabase: Sendable {
    /// Every symbol defined, by name (without `CONFIG_`).
    public private(set) var symbols: [String: KconfigSymbol] = [:]
    /// How many Kconfig files were read.
    public private(set) var fileCount = 0

    /// Loads a whole kernel tree, starting at `<tree>/Kconfig` and following every `source`.
    /// - Parameter architecture: the `SRCARCH` to substitute in `source "arch/$(SRCARCH)/Kconfig"`.
    /// - Throws: `KconfigError` with `file:line` for a line it cannot parse, a sourced file that is missing, or a
    ///   `source` that loops.
    public init(tree: URL, architecture: String = "x86") throws {
        try self.init(tree: tree, file: "Kconfig", architecture: architecture)
    }

    /// Loads `file` (relative to `tree`) and what it sources.
    public init(tree: URL, file: String, architecture: String = "x86") throws {
        try self.init(file: file, architecture: architecture, files: .directory(tree))
    }

    /// Loads `file` and what it sources from files in memory, keyed by their path relative to the tree root: what a
    /// tree on disk with these files gives, without the disk.
    public init(files: [String: [UInt8]], file: String = "Kconfig", architecture: String = "x86") throws {
        try self.init(file: file, architecture: architecture, files: .memory(files))
    }

    private init(file: String, architecture: String, files: KconfigParser.Files) throws {
        var parser = KconfigParser(files: files, architecture: architecture)
        try parser.parseFile(file, from: nil)
        try parser.finish()
        symbols = parser.symbols
        fileCount = parser.fileCount
        linkReverseDependencies(in: parser.order)
    }

    /// The symbol named `name` (with or without `CONFIG_`).
    public subscript(name: String) -> KconfigSymbol? {
        symbols[KernelConfiguration.bareName(name)]
    }

    /// Fills `selectedBy` and `impliedBy`, walking symbols in the order the files define them so lists are stable.
    private mutating func linkReverseDependencies(in order: [String]) {
        for name in order {
            guard let symbol = symbols[name] else { continue }
            for definition in symbol.definitions {
                for (list, keyPath) in [(definition.selects, \KconfigSymbol.selectedBy), (definition.implies, \KconfigSymbol.impliedBy)] {
                    for entry in list {
                        guard case .symbol(let target) = entry.value else { continue }
                        let condition = KconfigExpression.all([definition.dependencies, entry.condition])
                        symbols[target, default: KconfigSymbol(name: target)][keyPath: keyPath]
                            .append(.init(symbol: symbol.name, condition: condition))
                    }
                }
            }
        }
    }
}

/// A Kconfig file that could not be read or parsed.
public struct KconfigError: Error, Equatable, CustomStringConvertible {
    /// `file:line`, relative to the tree root.
    public var location: String
    /// What is wrong and what to do.
    public var message: String

    public var description: String { "\(location): \(message)" }
}

/// The line-by-line reader behind `KconfigDatabase`.
struct KconfigParser {
    enum BlockKind: String { case `if`, menu, choice }

    struct Block {
        var kind: BlockKind
        var dependency: KconfigExpression?
        var location: String
    }

    enum Entry {
        case none
        case config(String, KconfigSymbol.Definition, KconfigSymbol.Kind?)
        /// A menu or choice whose `depends on` lines go to the innermost block.
        case block
        /// `comment`, `mainmenu`: their properties are read and dropped.
        case ignored
    }

    /// Where the Kconfig files of a tree are: below a directory, or in memory by path relative to the tree root.
    enum Files {
        case directory(URL)
        case memory([String: [UInt8]])

        /// The file's bytes, or nil when there is no such file.
        func contents(_ path: String) -> [UInt8]? {
            switch self {
            case .directory(let root): FileManager.default.contents(atPath: root.appendingPathComponent(path).path).map { [UInt8]($0) }
            case .memory(let files): files[path]
            }
        }

        /// The file as an error names it.
        func name(_ path: String) -> String {
            switch self {
            case .directory(let root): root.appendingPathComponent(path).path
            case .memory: path
            }
        }
    }

    /// How deep `source` may nest; the kernel's own tree nests about six deep.
    static let maxSourceDepth = 64
    /// How deep `if`, `menu` and `choice` may nest: every symbol inside depends on all of them.
    static let maxBlockDepth = 64

    let files: Files
    let architecture: String
    var symbols: [String: KconfigSymbol] = [:]
    /// Symbol names in the order of their first definition.
    var order: [String] = []
    var blocks: [Block] = []
    var entry = Entry.none
    var fileCount = 0
    /// The files being read, outermost first: each one sources the next.
    var sourcing: [String] = []

    init(files: Files, architecture: String) {
        self.files = files
        self.architecture = architecture
    }

    /// Reads `path` and what it sources; an `optional` file that does not exist is skipped (`osource`).
    mutating func parseFile(_ path: String, from location: String?, optional: Bool = false) throws {
        if sourcing.contains(path) || sourcing.count >= Self.maxSourceDepth {
            let chain = (sourcing + [path]).joined(separator: " → ")
            throw KconfigError(location: location ?? path, message: sourcing.contains(path)
                ? "\(path) sources itself (\(chain)); remove the source line that closes the loop"
                : "source nests more than \(Self.maxSourceDepth) files deep (\(chain)); a loop through differently spelled paths?")
        }
        guard let bytes = files.contents(path) else {
            if optional { return }
            throw KconfigError(location: location ?? path,
                message: "cannot read \(files.name(path)); check that the kernel tree is complete and the path is relative to its root")
        }
        fileCount += 1
        sourcing.append(path)
        defer { sourcing.removeLast() }
        // Work on bytes: most lines are help text or blank, and only their indentation matters.
        var helpIndent: Int?
        var inHelp = false
        var pending: [UInt8] = []
        var pendingLine = 0
        var number = 0
        var lineStart = 0
        // Scanning for line ends and help indentation touches every byte, so it goes through a buffer pointer.
        try bytes.withUnsafeBufferPointer { buffer in
            while lineStart <= buffer.count {
                var lineEnd = lineStart
                while lineEnd < buffer.count, buffer[lineEnd] != 0x0a { lineEnd += 1 }
                let lineRange = lineStart..<lineEnd
                lineStart = lineEnd + 1
                number += 1
                if inHelp {
                    guard let indent = Self.indentation(buffer, lineRange) else { continue }
                    if let helpIndent, indent >= helpIndent { continue }
                    if helpIndent == nil, indent > 0 { helpIndent = indent; continue }
                    inHelp = false
                    helpIndent = nil
                }
                let content = Self.trim(bytes[lineRange])
                if pending.isEmpty, content.isEmpty || content.first == UInt8(ascii: "#") { continue }
                if content.last == UInt8(ascii: "\\") {
                    if pending.isEmpty { pendingLine = number }
                    pending += content.dropLast()
                    pending.append(0x20)
                    continue
                }
                let lineNumber = pending.isEmpty ? number : pendingLine
                let line = pending.isEmpty ? content : Self.trim(ArraySlice(pending + content))
                pending = []
                do {
                    if try parseLine(line, file: path, line: lineNumber) { inHelp = true }
                } catch let error as KconfigExpressionError {
                    throw KconfigError(location: "\(path):\(lineNumber)", message: error.message)
                }
            }
        }
        endEntry()
    }

    /// Parses one trimmed statement; returns true when it starts help text.
    mutating func parseLine(_ line: ArraySlice<UInt8>, file: String, line number: Int) throws -> Bool {
        var here: String { "\(file):\(number)" }
        let keywordEnd = line.firstIndex { $0 == 0x20 || $0 == 0x09 } ?? line.endIndex
        let keywordBytes = line[..<keywordEnd]
        let restBytes = Self.trim(line[keywordEnd...])
        // Macro assignments (`cc-option = $(…)`, `quote := "`) can hold anything, so they are skipped before any
        // quote or comment handling; so are bare macro calls like `$(error-if,…)`.
        if keywordBytes.starts(with: "$(".utf8) || keywordBytes.contains(UInt8(ascii: "=")) { return false }
        if restBytes.first == UInt8(ascii: "=") || restBytes.starts(with: ":=".utf8) || restBytes.starts(with: "+=".utf8) { return false }
        let keyword = String(decoding: keywordBytes, as: UTF8.self)
        let rest = String(decoding: restBytes.contains(UInt8(ascii: "#")) ? Self.stripComment(restBytes) : restBytes, as: UTF8.self)

        switch keyword {
        case "config", "menuconfig":
            endEntry()
            guard KernelConfiguration.isSymbolName(rest) else {
                throw KconfigError(location: here, message: "'\(keyword)' needs one symbol name, found '\(rest)'")
            }
            entry = .config(rest, KconfigSymbol.Definition(location: here, dependencies: inheritedDependency), nil)
        case "bool", "boolean", "tristate", "string", "int", "hex":
            let kind: KconfigSymbol.Kind = keyword == "boolean" ? .bool : KconfigSymbol.Kind(rawValue: keyword)!
            try setType(kind, at: here)
            if !rest.isEmpty { try setPrompt(rest, at: here) }
        case "def_bool", "def_tristate":
            try setType(keyword == "def_bool" ? .bool : .tristate, at: here)
            try addDefault(rest, at: here)
        case "prompt":
            try setPrompt(rest, at: here)
        case "default":
            try addDefault(rest, at: here)
        case "depends":
            guard rest.hasPrefix("on") else { throw KconfigError(location: here, message: "expected 'depends on EXPR'") }
            let expression = try KconfigExpression(parsing: String(rest.dropFirst(2)))
            switch entry {
            case .config(let name, var definition, let kind):
                definition.dependencies = definition.dependencies.map { .and($0, expression) } ?? expression
                entry = .config(name, definition, kind)
            case .block:
                blocks[blocks.count - 1].dependency = blocks[blocks.count - 1].dependency.map { .and($0, expression) } ?? expression
            case .ignored, .none:
                break
            }
        case "select", "imply":
            guard case .config(let name, var definition, let kind) = entry else { return false }
            let (target, condition) = try Self.splitCondition(rest)
            let item = KconfigSymbol.Conditional(value: .symbol(target.trimmedBlanks), condition: condition)
            if keyword == "select" { definition.selects.append(item) } else { definition.implies.append(item) }
            entry = .config(name, definition, kind)
        case "help", "---help---":
            return true
        case "range", "option", "modules", "optional", "visible", "transitional", "allnoconfig_y", "defconfig_list":
            break
        case "if":
            endEntry()
            try requireBlockRoom(at: here)
            blocks.append(Block(kind: .if, dependency: try KconfigExpression(parsing: rest), location: here))
        case "menu", "choice":
            endEntry()
            try requireBlockRoom(at: here)
            blocks.append(Block(kind: keyword == "menu" ? .menu : .choice, dependency: nil, location: here))
            entry = .block
        case "endif", "endmenu", "endchoice":
            endEntry()
            let kind = BlockKind(rawValue: String(keyword.dropFirst(3)))!
            guard let open = blocks.last, open.kind == kind else {
                let expected = blocks.last.map { "end\($0.kind.rawValue) for the \($0.kind.rawValue) at \($0.location)" } ?? "nothing"
                throw KconfigError(location: here, message: "'\(keyword)' does not match: expected \(expected)")
            }
            blocks.removeLast()
        case "comment", "mainmenu":
            endEntry()
            entry = .ignored
        case "source", "rsource", "osource", "orsource":
            endEntry()
            guard let (path, _) = Self.quoted(rest) else {
                throw KconfigError(location: here, message: "expected source \"path\", found '\(rest)'")
            }
            let resolved = path.replacingOccurrences(of: "$(SRCARCH)", with: architecture)
                .replacingOccurrences(of: "$(HEADER_ARCH)", with: architecture)
            try parseFile(resolved, from: here, optional: keyword.hasPrefix("o"))
        default:
            throw KconfigError(location: here, message: "unknown Kconfig keyword '\(keyword)'; this parser reads only the subset needed for dependencies")
        }
        return false
    }

    mutating func finish() throws {
        endEntry()
        if let open = blocks.last {
            throw KconfigError(location: open.location, message: "'\(open.kind.rawValue)' is never closed with 'end\(open.kind.rawValue)'")
        }
    }

    func requireBlockRoom(at here: String) throws {
        guard blocks.count < Self.maxBlockDepth else {
            throw KconfigError(location: here, message: "if, menu and choice nest more than \(Self.maxBlockDepth) deep; is an endif or endmenu missing?")
        }
    }

    var inheritedDependency: KconfigExpression? {
        KconfigExpression.all(blocks.map(\.dependency))
    }

    mutating func endEntry() {
        if case .config(let name, let definition, let kind) = entry {
            if symbols[name] == nil { order.append(name) }
            var symbol = symbols[name] ?? KconfigSymbol(name: name)
            if let kind, symbol.kind == .unknown { symbol.kind = kind }
            symbol.definitions.append(definition)
            symbols[name] = symbol
        }
        entry = .none
    }

    mutating func setType(_ kind: KconfigSymbol.Kind, at here: String) throws {
        switch entry {
        case .config(let name, let definition, _): entry = .config(name, definition, kind)
        case .block, .ignored: break // a typed choice
        case .none: throw KconfigError(location: here, message: "a type outside a config block")
        }
    }

    mutating func setPrompt(_ text: String, at here: String) throws {
        guard let (prompt, tail) = Self.quoted(text) else {
            throw KconfigError(location: here, message: "expected a quoted prompt, found '\(text)'")
        }
        guard case .config(let name, var definition, let kind) = entry else { return }
        definition.prompt = prompt
        let condition = tail.trimmedBlanks
        if condition.hasPrefix("if") {
            definition.promptCondition = try KconfigExpression(parsing: String(condition.dropFirst(2)))
        }
        entry = .config(name, definition, kind)
    }

    mutating func addDefault(_ text: String, at here: String) throws {
        guard case .config(let name, var definition, let kind) = entry else { return }
        let (value, condition) = try Self.splitCondition(text)
        definition.defaults.append(.init(value: try KconfigExpression(parsing: value), condition: condition))
        entry = .config(name, definition, kind)
    }

    /// `EXPR if COND` → (EXPR, COND): the first standalone `if` outside quotes and parentheses.
    static func splitCondition(_ text: String) throws(KconfigExpressionError) -> (String, KconfigExpression?) {
        let chars = Array(text.utf8)
        func blank(_ index: Int) -> Bool { index < 0 || index >= chars.count || chars[index] == 0x20 || chars[index] == 0x09 }
        var depth = 0
        var quote: UInt8?
        var index = 0
        while index < chars.count {
            let c = chars[index]
            if let open = quote {
                if c == UInt8(ascii: "\\") { index += 1 } else if c == open { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: "(") {
                depth += 1
            } else if c == UInt8(ascii: ")") {
                depth -= 1
            } else if depth == 0, c == UInt8(ascii: "i"), index + 1 < chars.count, chars[index + 1] == UInt8(ascii: "f"),
                      blank(index - 1), blank(index + 2) || chars[index + 2] == UInt8(ascii: "(") || chars[index + 2] == UInt8(ascii: "!") {
                let condition = try KconfigExpression(parsing: String(decoding: chars[(index + 2)...], as: UTF8.self))
                return (String(decoding: chars[..<index], as: UTF8.self).trimmedBlanks, condition)
            }
            index += 1
        }
        return (text, nil)
    }

    /// `"text" rest` → (text, rest).
    static func quoted(_ text: String) -> (String, Substring)? {
        guard let open = text.first, open == "\"" || open == "'" else { return nil }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let c = text[index]
            if c == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { result.append(text[index]) }
            } else if c == open {
                return (result, text[text.index(after: index)...])
            } else {
                result.append(c)
            }
            if index < text.endIndex { index = text.index(after: index) }
        }
        return nil
    }

    /// Drops a `#` comment that is outside quotes.
    static func stripComment(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var quote: UInt8?
        var escaped = false
        for index in text.indices {
            let c = text[index]
            if escaped { escaped = false; continue }
            if c == UInt8(ascii: "\\") { escaped = true; continue }
            if let open = quote {
                if c == open { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: "#") {
                return trim(text[..<index])
            }
        }
        return text
    }

    /// The bytes without leading and trailing blanks (spaces, tabs, carriage returns).
    static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
    }

    /// The indentation of a line in columns (tabs to multiples of 8), or nil for a blank line.
    static func indentation(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var column = 0
        for index in range {
            let byte = buffer[index]
            switch byte {
            case UInt8(ascii: " "): column += 1
            case UInt8(ascii: "\t"): column = (column / 8 + 1) * 8
            case UInt8(ascii: "\r"): continue
            default: return column
            }
        }
        return nil
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs; cheaper than Foundation's trimming on hot paths.
    var trimmedBlanks: String {
        String(decoding: KconfigParser.trim(ArraySlice(utf8)), as: UTF8.self)
    }
}
