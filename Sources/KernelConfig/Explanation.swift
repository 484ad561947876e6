import Foundation

/// Why a symbol did not get the value a fragment asked for, as one sentence with the fix.
public struct Explanation: Sendable, Equatable, CustomStringConvertible {
    /// The kind of cause, for callers that act on it.
    public enum Reason: Sendable, Equatable {
        /// The configuration has the requested value.
        case satisfied
        /// No Kconfig file defines the symbol.
        case unknownSymbol
        /// The `depends on` (with those of enclosing `if`/`menu` blocks) does not allow the value.
        case unmetDependency(KconfigExpression)
        /// No visible prompt, so a fragment cannot set it; only these symbols' `select` can.
        case notUserSettable(selectedBy: [String])
        /// Enabled `select`s force a higher value than requested.
        case forcedBySelect(by: [String])
        /// `m` was requested for a bool.
        case notTristate
        /// Dependencies, prompt and selects all allow the value: something else changed it.
        case unexplained
    }

    /// The symbol, without `CONFIG_`.
    public var symbol: String
    /// The value the fragments asked for.
    public var requested: ConfigValue
    /// The value in the configuration explained (`n` when absent).
    public var actual: ConfigValue
    /// The cause, as data.
    public var reason: Reason
    /// Settings that would give the symbol its value, innermost dependency first (empty when there is no
    /// single right answer, e.g. which of several selecting symbols to enable).
    public var fixes: [(symbol: String, value: ConfigValue)]
    /// The sentence: what was requested, what happened, why, and what to add.
    public var description: String

    public static func == (lhs: Explanation, rhs: Explanation) -> Bool {
        lhs.symbol == rhs.symbol && lhs.requested == rhs.requested && lhs.actual == rhs.actual && lhs.reason == rhs.reason
            && lhs.description == rhs.description && lhs.fixes.map { "\($0.symbol)=\($0.value)" } == rhs.fixes.map { "\($0.symbol)=\($0.value)" }
    }
}

extension KconfigDatabase {
    /// Explains why `symbol` does not have the value `wanted` in `config` (normally the final `.config` after
    /// `make olddefconfig`): the `depends on` terms that are false and, two levels down, why those symbols are not
    /// set; or that the symbol has no prompt and nothing selecting it is enabled; or that a `select` forces it.
    public func explain(_ symbol: String, wanted: ConfigValue, in config: KernelConfiguration) -> Explanation {
        let name = KernelConfiguration.bareName(symbol)
        let actual = config.value(of: name)
        let head = "CONFIG_\(name)=\(wanted) was requested but \(Self.state(actual))"
        func result(_ reason: Explanation.Reason, _ why: String, fixes: [(String, ConfigValue)] = [], advice: String? = nil) -> Explanation {
            let fixes = Self.unique(fixes)
            let action = advice ?? (fixes.isEmpty
                ? " — no setting in a fragment can satisfy it, so drop the request"
                : " — add " + Self.list(fixes.map { Self.setting($0.0, $0.1) }))
            return Explanation(symbol: name, requested: wanted, actual: actual, reason: reason,
                               fixes: fixes.map { (symbol: $0.0, value: $0.1) }, description: "\(head): \(why)\(action)")
        }

        if actual == wanted {
            return Explanation(symbol: name, requested: wanted, actual: actual, reason: .satisfied, fixes: [],
                               description: "CONFIG_\(name)=\(wanted) is set as requested")
        }
        guard let definition = symbols[name], !definition.definitions.isEmpty else {
            return result(.unknownSymbol, "no Kconfig file in this tree defines \(name)",
                          advice: " — check the spelling and whether this kernel version still has it, then remove it from the fragment")
        }
        if wanted == .module, definition.kind == .bool {
            return result(.notTristate, "\(name) is a bool, so it can only be y or n", advice: " — request CONFIG_\(name)=y instead")
        }

        let wantedLevel = wanted.level
        if wanted == .no {
            let selected = definition.selectedValue(in: config)
            if selected.value.level > 0 {
                let by = selected.by.map { "\($0) (\(config.value(of: $0)))" }
                return result(.forcedBySelect(by: selected.by), "it is selected by \(Self.list(by)), which forces it on",
                              advice: " — turn off " + Self.list(selected.by.map { "CONFIG_\($0)" }) + " (# CONFIG_… is not set), or drop the request")
            }
            if !definition.isUserSettable(in: config) {
                return result(.notUserSettable(selectedBy: []), "it has no prompt, so a fragment cannot change it; it takes its default",
                              advice: " — turn off the options its default depends on instead")
            }
            return result(.unexplained, "its prompt is visible and nothing selects it",
                          advice: " — check that no later fragment sets it and that the .config was regenerated with make olddefconfig")
        }

        // Strings and numbers only need their dependencies to be non-n.
        let need = max(wantedLevel, 1)
        if actual.level > wantedLevel {
            let selected = definition.selectedValue(in: config)
            if selected.value.level > wantedLevel {
                return result(.forcedBySelect(by: selected.by),
                              "it is selected by \(Self.list(selected.by.map { "\($0) (\(config.value(of: $0)))" })), which forces it to \(selected.value)",
                              advice: " — request CONFIG_\(name)=\(selected.value), or make the selecting options modules")
            }
        }
        var visited: Set<String> = [name]
        if let cause = cause(of: name, need: need, depth: 0, in: config, visited: &visited) {
            return result(cause.reason, cause.text, fixes: cause.fixes, advice: cause.advice)
        }
        return result(.unexplained, "its dependencies are met and it has a prompt",
                      advice: " — check that no later fragment overrides it and that the .config was regenerated with make olddefconfig")
    }

    private struct Cause {
        var reason: Explanation.Reason
        var text: String
        var fixes: [(String, ConfigValue)]
        var advice: String?
    }

    /// Why `name` cannot reach `need` (1 = m, 2 = y); nil when nothing blocks it, so setting it is the fix.
    private func cause(of name: String, need: Int, depth: Int, in config: KernelConfiguration, visited: inout Set<String>) -> Cause? {
        guard let symbol = symbols[name], !symbol.definitions.isEmpty else {
            return Cause(reason: .unknownSymbol, text: "no Kconfig file in this tree defines \(name)", fixes: [])
        }
        if let dependency = symbol.dependencies, dependency.level(in: config) < need {
            var fixes: [(String, ConfigValue)] = []
            // (symbol, its state, why) for symbol terms; (nil, the whole text, nil) for other terms.
            var terms: [(symbol: String?, state: String, inner: String?)] = []
            let failing = dependency.conjuncts.filter { $0.level(in: config) < need }
            for term in failing {
                switch term {
                case .symbol(let other) where !KconfigExpression.isConstant(other):
                    var inner: String?
                    if depth < 2, visited.insert(other).inserted,
                       let cause = cause(of: other, need: need, depth: depth + 1, in: config, visited: &visited) {
                        inner = cause.text
                        fixes += cause.fixes
                    }
                    if symbols[other] != nil { fixes.append((other, .fromLevel(need))) }
                    terms.append((other, Self.state(config.value(of: other)), inner))
                case .not(.symbol(let other)) where !KconfigExpression.isConstant(other):
                    terms.append((nil, "\(other) is \(config.value(of: other))", nil))
                    fixes.append((other, .no))
                default:
                    let values = term.symbols.map { "\($0) \(Self.state(config.value(of: $0)))" }
                    terms.append((nil, "\(term) is \(ConfigValue.fromLevel(term.level(in: config)))"
                                  + (values.isEmpty ? "" : " (\(Self.list(values)))"), nil))
                }
            }
            let text: String
            if failing.count == 1, failing[0] == dependency, case .symbol(let only) = dependency {
                text = "it depends on \(only), which \(terms[0].state)" + (terms[0].inner.map { ": " + $0 } ?? "")
            } else if terms.count == 1 {
                let term = terms[0]
                text = "it depends on \(dependency), and " + (term.symbol.map { "\($0) \(term.state)" } ?? term.state)
                    + (term.inner.map { ": " + $0 } ?? "")
            } else {
                text = "it depends on \(dependency), and " + Self.list(Self.grouped(terms))
            }
            return Cause(reason: .unmetDependency(dependency), text: text, fixes: fixes)
        }
        if !symbol.isUserSettable(in: config) {
            if symbol.hasPrompt, let condition = symbol.definitions.compactMap(\.promptCondition).first {
                let values = condition.symbols.map { "\($0) \(Self.state(config.value(of: $0)))" }
                let fixes = condition.symbols.filter { config.value(of: $0).level == 0 }.map { ($0, ConfigValue.yes) }
                return Cause(reason: .notUserSettable(selectedBy: symbol.selectedBy.map(\.symbol)),
                             text: "its prompt is shown only if \(condition), and \(Self.list(values))", fixes: fixes)
            }
            let selectors = Self.uniqueNames(symbol.selectedBy.map(\.symbol))
            if selectors.isEmpty {
                return Cause(reason: .notUserSettable(selectedBy: []), text: "it has no prompt and nothing selects it, so no fragment can set it",
                             fixes: [], advice: " — remove it from the fragment")
            }
            let shown = selectors.prefix(4).map { "CONFIG_\($0)" }
            let more = selectors.count > 4 ? " (or one of \(selectors.count - 4) others)" : ""
            return Cause(reason: .notUserSettable(selectedBy: selectors),
                         text: "it has no prompt, so only a select can set it, and nothing that selects it is enabled",
                         fixes: [], advice: selectors.count == 1 ? " — enable \(shown[0]), which selects it"
                             : " — enable one of \(Self.list(shown, conjunction: "or"))\(more), which select it")
        }
        return nil
    }

    /// Symbols blocked for the same reason are named together: "A and B are not set (each depends on NET, …)".
    static func grouped(_ terms: [(symbol: String?, state: String, inner: String?)]) -> [String] {
        var groups: [(symbols: [String], state: String, inner: String?)] = []
        for term in terms {
            if let symbol = term.symbol, term.inner != nil,
               let index = groups.firstIndex(where: { !$0.symbols.isEmpty && $0.state == term.state && $0.inner == term.inner }) {
                groups[index].symbols.append(symbol)
            } else {
                groups.append((term.symbol.map { [$0] } ?? [], term.state, term.inner))
            }
        }
        return groups.map { group in
            guard !group.symbols.isEmpty else { return group.state }
            let plural = group.symbols.count > 1
            let state = plural ? group.state.replacingOccurrences(of: "is ", with: "are ", options: .anchored) : group.state
            var inner = group.inner
            if plural, let text = inner, text.hasPrefix("it ") { inner = "each " + text.dropFirst(3) }
            return "\(list(group.symbols)) \(state)" + (inner.map { " (\($0))" } ?? "")
        }
    }

    static func state(_ value: ConfigValue) -> String {
        value == .no ? "is not set" : "is \(value)"
    }

    static func setting(_ symbol: String, _ value: ConfigValue) -> String {
        value == .no ? "# CONFIG_\(symbol) is not set" : "CONFIG_\(symbol)=\(value)"
    }

    static func list(_ items: [String], conjunction: String = "and") -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
        }
    }

    static func unique(_ fixes: [(String, ConfigValue)]) -> [(String, ConfigValue)] {
        var seen = Set<String>()
        return fixes.filter { seen.insert($0.0).inserted }
    }

    static func uniqueNames(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
