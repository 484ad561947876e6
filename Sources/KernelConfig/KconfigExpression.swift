/// A Kconfig expression, as in `depends on INET && NET_9P` or `select X if Y`.
public indirect enum KconfigExpression: Equatable, Sendable, CustomStringConvertible {
    /// A symbol (`NET`), or a constant (`y`, `m`, `n`, `"text"`, `64`): constants have no Kconfig definition.
    case symbol(String)
    /// A `$(macro,…)` call; evaluated as y because only the toolchain can answer it.
    case macro(String)
    case not(KconfigExpression)
    case and(KconfigExpression, KconfigExpression)
    case or(KconfigExpression, KconfigExpression)
    /// `A = B`, `A != B`, `A < B`, …: the operator as written.
    case comparison(String, String, String)

    public var description: String { render(parentPrecedence: 0) }

    /// The symbols the expression reads, in order, without constants.
    public var symbols: [String] {
        var result: [String] = []
        collectSymbols(into: &result)
        return result
    }

    /// The operands of a top-level `&&` chain (the expression itself if it is not a conjunction).
    public var conjuncts: [KconfigExpression] {
        var result: [KconfigExpression] = []
        collectConjuncts(into: &result)
        return result
    }

    // Appending to one array keeps both linear in the size of the expression: `a && b && …` nests on the left.
    private func collectSymbols(into result: inout [String]) {
        switch self {
        case .symbol(let name): if !Self.isConstant(name) { result.append(name) }
        case .macro: break
        case .not(let inner): inner.collectSymbols(into: &result)
        case .and(let lhs, let rhs), .or(let lhs, let rhs):
            lhs.collectSymbols(into: &result)
            rhs.collectSymbols(into: &result)
        case .comparison(_, let lhs, let rhs): result += [lhs, rhs].filter { !Self.isConstant($0) }
        }
    }

    private func collectConjuncts(into result: inout [KconfigExpression]) {
        guard case .and(let lhs, let rhs) = self else { return result.append(self) }
        lhs.collectConjuncts(into: &result)
        rhs.collectConjuncts(into: &result)
    }

    /// Evaluates with Kconfig's tristate logic (n = 0, m = 1, y = 2): `&&` is min, `||` is max, `!` is 2 − x;
    /// a comparison is y or n. Symbols take their value in `config`; absent symbols are n.
    public func evaluate(in config: KernelConfiguration) -> ConfigValue {
        .fromLevel(level(in: config))
    }

    func level(in config: KernelConfiguration) -> Int {
        switch self {
        case .symbol(let name):
            switch name {
            case "y": return 2
            case "m": return 1
            case "n": return 0
            default: return Self.isConstant(name) ? 0 : config.value(of: name).level
            }
        case .macro: return 2
        case .not(let inner): return 2 - inner.level(in: config)
        case .and(let lhs, let rhs): return min(lhs.level(in: config), rhs.level(in: config))
        case .or(let lhs, let rhs): return max(lhs.level(in: config), rhs.level(in: config))
        case .comparison(let op, let lhs, let rhs):
            let left = Self.operandText(lhs, in: config)
            let right = Self.operandText(rhs, in: config)
            let order: Int
            if let l = Self.integer(left), let r = Self.integer(right) {
                order = l < r ? -1 : l > r ? 1 : 0
            } else {
                order = left < right ? -1 : left > right ? 1 : 0
            }
            let result = switch op {
            case "=": order == 0
            case "!=": order != 0
            case "<": order < 0
            case "<=": order <= 0
            case ">": order > 0
            default: order >= 0
            }
            return result ? 2 : 0
        }
    }

    /// The `&&` of the given expressions, skipping nils; nil if there are none.
    static func all(_ parts: [KconfigExpression?]) -> KconfigExpression? {
        var result: KconfigExpression?
        for case let part? in parts {
            result = result.map { .and($0, part) } ?? part
        }
        return result
    }

    static func isConstant(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return true }
        if name == "y" || name == "m" || name == "n" || first == UInt8(ascii: "\"") { return true }
        // Symbols may start with a digit (9P_FS); numbers are all digits, or 0x… hex, or negative.
        let digits = name.hasPrefix("-") ? name.utf8.dropFirst() : name.utf8[...]
        if !digits.isEmpty, digits.allSatisfy({ (48...57).contains($0) }) { return true }
        return name.hasPrefix("0x") && name.utf8.dropFirst(2).allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }

    private static func operandText(_ operand: String, in config: KernelConfiguration) -> String {
        if operand.hasPrefix("\"") { return String(operand.dropFirst().dropLast()) }
        if isConstant(operand) { return operand }
        switch config.value(of: operand) {
        case .string(let text): return text
        case let value: return value.description
        }
    }

    private static func integer(_ text: String) -> Int? {
        text.lowercased().hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }

    private func render(parentPrecedence: Int) -> String {
        switch self {
        case .symbol(let name): return name
        case .macro(let text): return text
        case .not(let inner): return "!" + inner.render(parentPrecedence: 3)
        case .comparison(let op, let lhs, let rhs): return "\(lhs)\(op)\(rhs)"
        case .and(let lhs, let rhs):
            let text = lhs.render(parentPrecedence: 2) + " && " + rhs.render(parentPrecedence: 2)
            return parentPrecedence > 2 ? "(\(text))" : text
        case .or(let lhs, let rhs):
            let text = lhs.render(parentPrecedence: 1) + " || " + rhs.render(parentPrecedence: 1)
            return parentPrecedence > 1 ? "(\(text))" : text
        }
    }
}

extension KconfigExpression {
    /// How deep parentheses and `!` may nest, and how many words and operators an expression may have: far more
    /// than the kernel uses (Linux 6.1 nests 3 deep and joins at most 21 operands), little enough that evaluating
    /// and printing one, which recurse, never run out of stack.
    public static let maxNesting = 64
    public static let maxTokens = 2048

    /// Parses an expression; throws a message without location (the Kconfig parser adds file:line).
    public init(parsing text: String) throws(KconfigExpressionError) {
        let tokens = try ExpressionParser.tokenize(text)
        guard tokens.count <= Self.maxTokens else {
            throw KconfigExpressionError(message: "an expression of \(tokens.count) words and operators is longer than the \(Self.maxTokens) this parser reads")
        }
        var parser = ExpressionParser(tokens: tokens, text: text)
        self = try parser.parseOr()
        if parser.position < parser.tokens.count {
            throw KconfigExpressionError(message: "unexpected '\(parser.tokens[parser.position])' in '\(text)'")
        }
    }
}

/// An expression that could not be parsed.
public struct KconfigExpressionError: Error, Equatable {
    public var message: String
}

private struct ExpressionParser {
    var tokens: [String]
    var text: String
    var position = 0
    /// How many `(` and `!` enclose the current token.
    var depth = 0

    static let comparisons: Set<String> = ["=", "!=", "<", "<=", ">", ">="]

    static func tokenize(_ text: String) throws(KconfigExpressionError) -> [String] {
        let chars = Array(text.utf8)
        func string(_ range: Range<Int>) -> String { String(decoding: chars[range], as: UTF8.self) }
        func isWord(_ c: UInt8) -> Bool {
            (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) || c >= 0x80
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "$")
        }
        var tokens: [String] = []
        var index = 0
        while index < chars.count {
            let c = chars[index]
            let next: UInt8? = index + 1 < chars.count ? chars[index + 1] : nil
            switch c {
            case 0x20, 0x09, 0x0d:
                index += 1
            case UInt8(ascii: "$") where next == UInt8(ascii: "("):
                // A macro call runs to its matching parenthesis and may contain anything, commas included.
                var depth = 0
                var end = index + 1
                repeat {
                    if chars[end] == UInt8(ascii: "(") { depth += 1 } else if chars[end] == UInt8(ascii: ")") { depth -= 1 }
                    end += 1
                } while depth > 0 && end < chars.count
                guard depth == 0 else { throw KconfigExpressionError(message: "unclosed $( in '\(text)'") }
                tokens.append(string(index..<end))
                index = end
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                var end = index + 1
                while end < chars.count, chars[end] != c {
                    end += chars[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard end < chars.count else { throw KconfigExpressionError(message: "unclosed quote in '\(text)'") }
                tokens.append("\"" + string((index + 1)..<end) + "\"")
                index = end + 1
            case UInt8(ascii: "&"), UInt8(ascii: "|"):
                guard next == c else {
                    let op = string(index..<(index + 1))
                    throw KconfigExpressionError(message: "'\(op)' must be doubled ('\(op)\(op)') in '\(text)'")
                }
                tokens.append(string(index..<(index + 2)))
                index += 2
            case UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                let width = next == UInt8(ascii: "=") ? 2 : 1
                tokens.append(string(index..<(index + width)))
                index += width
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "="):
                tokens.append(string(index..<(index + 1)))
                index += 1
            default:
                guard isWord(c) else {
                    throw KconfigExpressionError(message: "unexpected character '\(string(index..<(index + 1)))' in '\(text)'")
                }
                var end = index
                while end < chars.count, isWord(chars[end]) { end += 1 }
                tokens.append(string(index..<end))
                index = end
            }
        }
        return tokens
    }

    mutating func parseOr() throws(KconfigExpressionError) -> KconfigExpression {
        var lhs = try parseAnd()
        while peek == "||" {
            position += 1
            lhs = .or(lhs, try parseAnd())
        }
        return lhs
    }

    mutating func parseAnd() throws(KconfigExpressionError) -> KconfigExpression {
        var lhs = try parseUnary()
        while peek == "&&" {
            position += 1
            lhs = .and(lhs, try parseUnary())
        }
        return lhs
    }

    mutating func parseUnary() throws(KconfigExpressionError) -> KconfigExpression {
        guard let token = peek else { throw KconfigExpressionError(message: "expression ends too early: '\(text)'") }
        position += 1
        if token == "!" || token == "(" {
            depth += 1
            guard depth <= KconfigExpression.maxNesting else {
                throw KconfigExpressionError(message: "parentheses and ! nest more than \(KconfigExpression.maxNesting) deep in '\(text.prefix(80))…'")
            }
        }
        defer { if token == "!" || token == "(" { depth -= 1 } }
        switch token {
        case "!":
            return .not(try parseUnary())
        case "(":
            let inner = try parseOr()
            guard peek == ")" else { throw KconfigExpressionError(message: "missing ')' in '\(text)'") }
            position += 1
            return inner
        case "&&", "||", ")", "=", "!=", "<", "<=", ">", ">=":
            throw KconfigExpressionError(message: "unexpected '\(token)' in '\(text)'")
        default:
            if let op = peek, Self.comparisons.contains(op) {
                position += 1
                guard let rhs = peek, !Self.isOperator(rhs) else {
                    throw KconfigExpressionError(message: "'\(op)' needs a right-hand side in '\(text)'")
                }
                position += 1
                return .comparison(op, token, rhs)
            }
            return token.hasPrefix("$(") ? .macro(token) : .symbol(token)
        }
    }

    var peek: String? { position < tokens.count ? tokens[position] : nil }

    static func isOperator(_ token: String) -> Bool {
        ["&&", "||", "!", "(", ")"].contains(token) || comparisons.contains(token)
    }
}
