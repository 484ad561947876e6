/// How long one initcall took, from the kernel's `initcall_debug` output.
public struct InitcallDuration: Equatable, Sendable {
    /// The function (a symbol name with CONFIG_KALLSYMS, else its address).
    public var name: String
    public var seconds: Double
    public var returned: Int

    public init(name: String, seconds: Double, returned: Int) {
        self.name = name
        self.seconds = seconds
        self.returned = returned
    }

    /// Every `initcall NAME returned R after N usecs` line (N whole, as the kernel prints it), slowest first. The
    /// kernel prints these at debug level: boot with `initcall_debug ignore_loglevel`. Without CONFIG_KALLSYMS the
    /// kernel prints addresses; `symbols` (the kernel's System.map) names them.
    public static func slowest(in lines: [ConsoleLine], top: Int = 10, symbols: SymbolMap? = nil) -> [InitcallDuration] {
        var durations: [InitcallDuration] = []
        for line in lines {
            guard let rest = line.text.dropPrefix("initcall ") else { continue }
            let words = rest.split(separator: " ")
            // NAME returned R after N usecs
            guard words.count >= 6, words[1] == "returned", words[3] == "after", words[5] == "usecs",
                  let returned = Int(words[2]), let micros = UInt64(words[4]) else { continue }
            var name = String(words[0])
            if let plus = name.firstIndex(of: "+") { name = String(name[..<plus]) }  // do_one+0x0/0x20 → do_one
            if let resolved = symbols?.name(at: name) { name = resolved }
            durations.append(InitcallDuration(name: name, seconds: Double(micros) / 1_000_000, returned: returned))
        }
        return Array(durations.sorted { $0.seconds > $1.seconds }.prefix(top))
    }
}
