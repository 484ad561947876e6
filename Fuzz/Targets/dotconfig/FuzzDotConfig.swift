import FuzzSupport
import KernelConfig

/// `.config` files and config fragments: the parser, rendering, and a merge of the input onto itself.
///
/// Properties: what parses renders to text that parses to the same settings; a merge of a configuration onto
/// itself overrides nothing and verifies clean.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDotConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    guard let config = try? KernelConfiguration(parsing: text, origin: "fuzz.config") else { return 0 }
    let rendered = config.rendered
    let reparsed: KernelConfiguration
    do {
        reparsed = try KernelConfiguration(parsing: rendered, origin: "rendered")
    } catch {
        require(false, "the rendered configuration does not parse: \(error)\n\(rendered)")
        return 0
    }
    require(reparsed.settings.elementsEqual(config.settings, by: { $0.symbol == $1.symbol && $0.value == $1.value }),
            "the rendered configuration has other settings:\n\(rendered)")
    let (merged, overrides) = ConfigMerge.merge(base: config, fragments: [config])
    require(overrides.isEmpty, "merging onto itself overrides \(overrides)")
    require(ConfigVerification.check(requested: config, final: merged).isEmpty, "a merge onto itself does not verify")
    return 0
}
