/// A kernel's System.map: function addresses to names, for kernels built without CONFIG_KALLSYMS, whose
/// `initcall_debug` lines carry bare addresses (`initcall 0xffffffff81b1d975 returned 0 after 207609 usecs`).
public struct SymbolMap: Sendable {
    private var names: [UInt64: String] = [:]

    /// Parses `ffffffff81b1d975 t pty_init` lines; other lines are ignored.
    public init(systemMap text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, "tTwW".contains(fields[1]), let address = UInt64(fields[0], radix: 16) else { continue }
            names[address] = names[address] ?? String(fields[2])
        }
    }

    public var isEmpty: Bool { names.isEmpty }

    /// The function that starts at `address` (`0xffffffff81b1d975`), if the map has one.
    public func name(at address: String) -> String? {
        guard let hex = address.dropPrefix("0x"), let value = UInt64(hex, radix: 16) else { return nil }
        return names[value]
    }
}
