import FuzzSupport
import KernelSource

/// A quilt `series` file (`patches/series`, or one given with `--series`).
///
/// Property: every entry names a patch (no blank, line end or comment in it) on a line of the file, with a strip level of 0 or more.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSeries(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    guard let series = try? PatchSeries(parsing: text, source: "fuzz/series") else { return 0 }
    let lineCount = text.utf8.count(where: { $0 == 0x0a }) + 1
    for entry in series.entries {
        require(!entry.path.isEmpty && !entry.path.unicodeScalars.contains { "# \t\r\n".unicodeScalars.contains($0) },
                "entry \(entry.path.debugDescription) is not a path")
        require((1...lineCount).contains(entry.line), "entry on line \(entry.line) of \(lineCount)")
        require(entry.strip >= 0, "strip level \(entry.strip)")
    }
    return 0
}
