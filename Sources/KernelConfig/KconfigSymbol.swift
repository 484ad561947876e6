/// A Kconfig symbol with everything its `config`/`menuconfig` blocks say about it.
public struct KconfigSymbol: Sendable {
    /// The symbol's type.
    public enum Kind: String, Sendable {
        case bool, tristate, string, int, hex, unknown
    }

    /// A conditional property: `default X if C`, `select S if C`, `imply S if C`.
    public struct Conditional: Sendable, Equatable {
        public var value: KconfigExpression
        public var condition: KconfigExpression?
    }

    /// One `config` block. A symbol can be defined in several places (per architecture, for example).
    public struct Definition: Sendable {
        /// `file:line` of the `config` line, relative to the tree root.
        public var location: String
        /// The prompt text; nil when the block has none, so the user cannot set the symbol there.
        public var prompt: String?
        /// `bool "…" if C`: the prompt is shown only when C holds.
        public var promptCondition: KconfigExpression?
        /// Every `depends on` of the block, joined with `&&`, together with those of the enclosing `if`, `menu` and
        /// `choice` blocks; nil means no dependency.
        public var dependencies: KconfigExpression?
        /// `default X [if C]`, and the value of `def_bool`/`def_tristate`.
        public var defaults: [Conditional] = []
        /// `select S [if C]`: `value` is `.symbol(S)`.
        public var selects: [Conditional] = []
        /// `imply S [if C]`: `value` is `.symbol(S)`.
        public var implies: [Conditional] = []
    }

    /// A symbol that selects (or implies) this one, and under which condition.
    public struct ReverseDependency: Sendable, Equatable {
        /// The selecting symbol.
        public var symbol: String
        /// The `if` of the select together with the selecting block's dependencies; nil means always.
        public var condition: KconfigExpression?
    }

    /// The name, without `CONFIG_`.
    public var name: String
    /// The type of the first definition that gives one.
    public var kind: Kind = .unknown
    public var definitions: [Definition] = []
    /// Symbols whose `select` names this one.
    public var selectedBy: [ReverseDependency] = []
    /// Symbols whose `imply` names this one.
    public var impliedBy: [ReverseDependency] = []

    public init(name: String) {
        self.name = name
    }

    /// What the symbol depends on across all its definitions (any definition being visible is enough);
    /// nil if at least one definition has no dependency.
    public var dependencies: KconfigExpression? {
        var result: KconfigExpression?
        for definition in definitions {
            guard let dependency = definition.dependencies else { return nil }
            result = result.map { .or($0, dependency) } ?? dependency
        }
        return result
    }

    /// Whether any definition has a prompt, i.e. a user can set the symbol in some configuration.
    public var hasPrompt: Bool {
        definitions.contains { $0.prompt != nil }
    }

    /// Whether a prompt is visible in `config`, so a value in a fragment is honoured (subject to dependencies).
    public func isUserSettable(in config: KernelConfiguration) -> Bool {
        definitions.contains { definition in
            guard definition.prompt != nil else { return false }
            return (definition.promptCondition?.level(in: config) ?? 2) > 0
        }
    }

    /// The highest value the dependencies allow in `config` (y when there are none).
    public func dependencyLimit(in config: KernelConfiguration) -> ConfigValue {
        let level = dependencies?.level(in: config) ?? 2
        // A bool with dependencies at m can still be y only if they are y; Kconfig rounds m up for bools.
        return .fromLevel(kind == .bool && level == 1 ? 2 : level)
    }

    /// The value the active selects force on this symbol in `config`, with the symbols doing it.
    public func selectedValue(in config: KernelConfiguration) -> (value: ConfigValue, by: [String]) {
        var level = 0
        var by: [String] = []
        for reverse in selectedBy {
            let selector = config.value(of: reverse.symbol).level
            let active = min(selector, reverse.condition?.level(in: config) ?? 2)
            if active > 0 {
                by.append(reverse.symbol)
                level = max(level, active)
            }
        }
        return (.fromLevel(kind == .bool && level == 1 ? 2 : level), by)
    }
}
