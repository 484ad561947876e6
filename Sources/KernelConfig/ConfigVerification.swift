/// A symbol a fragment asked for that the final `.config` does not have.
public struct Mismatch: Equatable, Sendable, CustomStringConvertible {
    /// The symbol, without `CONFIG_`.
    public var symbol: String
    /// What the fragments asked for.
    public var requested: ConfigValue
    /// What the final `.config` has (`n` when it does not mention the symbol).
    public var actual: ConfigValue

    public var description: String {
        "CONFIG_\(symbol)=\(requested) was requested but the final .config has \(actual == .no ? "it not set" : "CONFIG_\(symbol)=\(actual)")"
    }
}

/// The check merge_config.sh does after `make`: did every requested value survive dependency resolution?
public enum ConfigVerification {
    /// Every symbol in `requested` whose value differs in `final`, in the order requested. A symbol the final
    /// configuration does not mention counts as `n`, so requesting `# CONFIG_X is not set` is satisfied by its absence.
    /// Use `KconfigDatabase.explain` on each mismatch to learn why.
    public static func check(requested: KernelConfiguration, final: KernelConfiguration) -> [Mismatch] {
        requested.symbols.compactMap { symbol in
            let wanted = requested.value(of: symbol)
            let actual = final.value(of: symbol)
            return wanted == actual ? nil : Mismatch(symbol: symbol, requested: wanted, actual: actual)
        }
    }
}
