import FuzzSupport
import KernelConfig

/// A kernel tree's Kconfig files: the Kconfig parser (with `source`, blocks and expressions), then the explanations
/// `ksand kernel build` gives for requests the final configuration does not meet.
///
/// The input is a tree in one file: lines `#@ PATH` (a comment to Kconfig) start the file at PATH; what comes
/// before the first one is `Kconfig`, where parsing starts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKconfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let database = try? KconfigDatabase(files: tree(in: fuzzBytes(data, size))) else { return 0 }
    let names = database.symbols.keys.sorted().prefix(8)
    var everything = KernelConfiguration()
    for name in names { everything[name] = .yes }
    for name in names {
        guard let symbol = database[name] else { continue }
        _ = symbol.dependencies?.description
        for config in [KernelConfiguration(), everything] {
            _ = symbol.dependencyLimit(in: config)
            _ = symbol.selectedValue(in: config)
            for wanted in [ConfigValue.yes, .module, .no, .number("1")] {
                _ = database.explain(name, wanted: wanted, in: config).description
            }
        }
    }
    return 0
}

/// Splits the input at its `#@ PATH` lines into files by path.
func tree(in bytes: [UInt8]) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    var path = "Kconfig"
    for line in bytes.split(separator: 0x0a, omittingEmptySubsequences: false) {
        if line.starts(with: "#@ ".utf8) {
            path = String(decoding: line.dropFirst(3), as: UTF8.self)
        } else {
            files[path, default: []] += line + [0x0a]
        }
    }
    return files
}
