import Foundation
@testable import KernelBuild
import Testing

@Suite struct BuildProgressTests {
    /// make tinyconfig, olddefconfig and the start of make bzImage on Debian's 6.1 tree, as ksand logged them.
    static let recorded: [Substring] = {
        let url = Bundle.module.url(forResource: "kbuild-config-and-start", withExtension: "log", subdirectory: "Fixtures")!
        return try! String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    }()

    @Test func everyKbuildStepLineCountsAndNothingElse() {
        var progress = BuildProgress(estimatedTotal: 1300)
        for line in Self.recorded { progress.consume(line) }
        // 102 step lines: HOSTCC, WRAP, CC, SYSHDR, CHKSHA1, `CC [M]`-style tags alike.
        #expect(progress.done == 102)
    }

    @Test func messagesWarningsAndErrorsAreNotSteps() {
        for line in [
            "#", "", "  ", "Using .config as base", "make[1]: Entering directory '/b/out'", ".config:1274:warning: override: NO_HZ_IDLE changes choice state",
            "drivers/md/md.c:9696:9: error: expected ';' before 'return'", "    9696 |         msleep(1000)", "  cc1: all warnings being treated as errors",
            "Value of CONFIG_SLOB is redefined by fragment tiny.config:",
        ] {
            #expect(!BuildProgress.isStep(Substring(line)), "\(line)")
        }
        for line in ["  CC      kernel/fork.o", "  CC [M]  fs/9p/vfs_super.o", "  HOSTLD  scripts/kconfig/conf", "  LD      vmlinux.o", "  GEN     Makefile"] {
            #expect(BuildProgress.isStep(Substring(line)), "\(line)")
        }
    }

    @Test func theBarNeverReachesTheEndBeforeMakeDoesAndEstimatesTimeLeft() {
        var progress = BuildProgress(estimatedTotal: 200)
        progress.done = 50
        progress.elapsed = .seconds(60)
        #expect(progress.line == "50/~200 steps (25%), 1m00s elapsed, about 3m00s left")
        #expect(progress.bar(width: 8) == "[##......] 50/~200 steps (25%), 1m00s elapsed, about 3m00s left")
        progress.done = 260
        #expect(progress.fraction == 0.99)
        progress.done = 5
        #expect(progress.remaining == nil)
    }
}
