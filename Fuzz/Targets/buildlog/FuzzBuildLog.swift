import FuzzSupport
import KernelBuild
import KernelSource

/// A kernel build's log (what the compiler said about a patched tree) read for diagnostics, and a patch read for
/// the files it touches: both are text a patch under test controls.
///
/// Properties: every diagnostic has a file, a line and a message; printed as gcc prints it and read again, it is
/// the same diagnostic; comparing a build with itself finds nothing new. Every touched file is a relative path
/// inside the tree, named once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBuildLog(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let log = String(decoding: bytes, as: UTF8.self)
    let diagnostics = BuildDiagnostic.parse(log: log, tree: "/cache/build/tree")
    for diagnostic in diagnostics {
        require(!diagnostic.file.isEmpty, "a diagnostic with no file")
        require(diagnostic.line >= 0, "line \(diagnostic.line)")
        let again = BuildDiagnostic.parse(log: diagnostic.text, tree: "/cache/build/tree")
        require(again == [diagnostic], "\(diagnostic.text.debugDescription) reads back as \(again)")
    }
    let files = Set(diagnostics.map(\.file))
    require(BuildDiagnostic.new(in: diagnostics, comparedWith: diagnostics, files: files).isEmpty, "a build has new warnings against itself")

    for strip in [0, 1] {
        let touched = PatchSet.Patch(index: 1, subject: "fuzz", message: bytes, strip: strip).touchedFiles
        require(Set(touched).count == touched.count, "a file named twice in \(touched)")
        for file in touched {
            require(!file.isEmpty && !file.hasPrefix("/") && !file.split(separator: "/").contains(".."), "touched file \(file.debugDescription)")
        }
    }
    return 0
}
