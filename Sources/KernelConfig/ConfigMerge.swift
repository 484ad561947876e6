/// A symbol whose value a later fragment changed: what merge_config.sh reports as
/// "Value of CONFIG_X is redefined by fragment F".
public struct ConfigOverride: Equatable, Sendable, CustomStringConvertible {
    /// The symbol, without `CONFIG_`.
    public var symbol: String
    /// The value before the fragment.
    public var previous: ConfigValue
    /// The fragment's value.
    public var new: ConfigValue
    /// The `origin` of the fragment that redefined it.
    public var fragment: String

    public var description: String {
        "Value of CONFIG_\(symbol) is redefined by fragment \(fragment): \(previous) → \(new)"
    }
}

/// Merging fragments onto a base configuration with the semantics of the kernel's
/// `scripts/kconfig/merge_config.sh -m` (merge only, before `make olddefconfig` resolves dependencies).
public enum ConfigMerge {
    /// Merges `fragments` in order onto `base`.
    ///
    /// As merge_config.sh does: every symbol a fragment mentions (`CONFIG_X=…` or `# CONFIG_X is not set`) is removed
    /// from what has been merged so far, and the fragment's lines are appended; so later fragments win and a
    /// redefined symbol moves to the position of its last definition. A redefinition to a different value is
    /// reported in `overrides`; repeating the same value is not.
    ///
    /// Where the script's text matching is a bug, this follows the intent instead: its `sed "/CONFIG_PROC[ =]/d"`
    /// also deletes `CONFIG_IKCONFIG_PROC=y`, which is kept here; and it compares lines as text, so it warns when
    /// `CONFIG_X=n` becomes `# CONFIG_X is not set` or when the base repeats a line, which are not overrides here.
    public static func merge(base: KernelConfiguration, fragments: [KernelConfiguration])
        -> (merged: KernelConfiguration, overrides: [ConfigOverride])
    {
        var merged = base
        var overrides: [ConfigOverride] = []
        for fragment in fragments {
            for symbol in fragment.symbols {
                guard let previous = merged[symbol] else { continue }
                let new = fragment.value(of: symbol)
                if previous != new {
                    overrides.append(ConfigOverride(symbol: symbol, previous: previous, new: new, fragment: fragment.origin))
                }
                merged.remove(symbol)
            }
            merged.append(fragment.lines)
        }
        return (merged, overrides)
    }
}
