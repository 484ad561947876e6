/// What validating one patch of a series found, from the worst to the best.
///
/// A patch can earn several (slower *and* over budget); its row shows the first of them in this order, and the
/// report keeps them all.
public enum PatchVerdict: String, Codable, Sendable, CaseIterable, Comparable {
    /// `git apply` refused it on top of the patches before it; the patches after it were not tested.
    case doesNotApply = "does-not-apply"
    /// The kernel with it did not build.
    case buildFailed = "build-failed"
    /// The kernel panicked, hung or never ran the command.
    case bootFailed = "boot-failed"
    /// A test (or `--command`) failed on the kernel with it.
    case testsFailed = "tests-failed"
    /// Boot or shutdown got slower than its parent's, significantly and by at least the minimum effect.
    case regressed
    /// A budget its parent met is no longer met.
    case budgetBreached = "budget-breached"
    /// The build warns about something new in a file the patch touches.
    case newWarnings = "new-warnings"
    case pass
    /// Not reached: an earlier patch did not apply, or a bisection did not need it.
    case notTested = "not-tested"

    public static func < (a: PatchVerdict, b: PatchVerdict) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether it makes the patch a bad one.
    public var isBad: Bool { self != .pass && self != .notTested }

    /// The verdicts that mean "this patch is bad", worst first.
    public static let bad: [PatchVerdict] = allCases.filter(\.isBad)

    /// Whether a build that failed (or a patch that did not apply) should be skipped rather than called bad when
    /// `sought` is what a bisection looks for: a test or timing failure cannot be judged on a kernel that does not build.
    public static func skipsBuildFailures(seeking sought: Set<PatchVerdict>) -> Bool {
        sought.isDisjoint(with: [.doesNotApply, .buildFailed, .newWarnings])
    }
}
