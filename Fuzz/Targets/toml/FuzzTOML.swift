import FuzzSupport
import ProjectFile

/// `ksand.toml` and `suites/*.toml`: the same text through both readers (TOMLKit, then the typed table reader).
///
/// Property: what a reader accepts can be used as the rest of ksand uses it: durations and timeouts print as
/// milliseconds and become a `Duration` without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    if let project = try? ProjectFile(parsing: text, path: "/fuzz/ksand.toml") {
        requireUsable(project.sandbox.timeout, "[sandbox] timeout")
        requireUsable(project.budgets, "[budgets]")
    }
    if let suite = try? SuiteFile(parsing: text, path: "/fuzz/suites/fuzz.toml") {
        requireUsable(suite.budgets, "[budgets]")
        for test in suite.tests {
            requireUsable(test.timeout, "test \(test.name) timeout")
            requireUsable(test.budgets, "test \(test.name) budgets")
        }
    }
    return 0
}

func requireUsable(_ budgets: [String: Budget], _ what: String) {
    for (accelerator, budget) in budgets {
        requireUsable(budget.boot, "\(what).\(accelerator) boot")
        requireUsable(budget.shutdown, "\(what).\(accelerator) shutdown")
    }
}

/// Seconds the runner waits (`.milliseconds(Int(seconds * 1000))`) and the reports print (`DurationText.milliseconds`).
func requireUsable(_ seconds: Double?, _ what: String) {
    guard let seconds else { return }
    let milliseconds = (seconds * 1000).rounded()
    require(seconds > 0 && milliseconds.isFinite && milliseconds < 0x1p62, "\(what) = \(seconds) s is not a usable duration")
    _ = DurationText.milliseconds(seconds)
    _ = Duration.milliseconds(Int(milliseconds))
}
