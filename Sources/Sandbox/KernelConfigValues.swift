/// The symbols of a kernel .config and their values, as far as ksand's runtime needs them.
public struct KernelConfigValues: Sendable, Equatable {
    /// `CONFIG_FOO` → "y", "m", a number or a quoted string; symbols set to "is not set" are absent.
    public var values: [String: String]

    public init(parsing text: String) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        self.values = values
    }

    public subscript(symbol: String) -> String? { values[symbol] }

    /// Whether the symbol is built in (`=y`).
    public func isBuiltIn(_ symbol: String) -> Bool { values[symbol] == "y" }
    /// Whether the symbol is built in or a module.
    public func isEnabled(_ symbol: String) -> Bool { values[symbol] == "y" || values[symbol] == "m" }
}
