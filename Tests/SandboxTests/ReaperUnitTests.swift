import Foundation
import Testing
@testable import Sandbox

@Suite struct ProcessProgressTests {
    /// Recorded from a real `cat /proc/self/io` and `cat /proc/self/stat` on Debian 12.
    static let io = "rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n"
    static let stat = "554 (cat) R 550 550 1335 0 -1 4194304 116 0 0 0 0 0 0 0 20 0 1 0 300497 3133440 360 18446744073709551615 94892818358272 94892818378153 140733504259760 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94892818394160 94892818395776 94893653716992 140733504264908 140733504264928 140733504264928 140733504266219 0\n"

    @Test func parsesRecordedProcFiles() throws {
        let progress = try #require(ProcessProgress(io: Self.io, stat: Self.stat))
        #expect(progress.readChars == 6976)
        #expect(progress.writtenBytes == 4096)
        #expect(progress.state == "R")
        #expect(progress.cpuTicks == 0)
    }

    @Test func commandNamesWithSpacesAndParenthesesDoNotShiftFields() throws {
        let tricky = Self.stat.replacingOccurrences(of: "(cat)", with: "(qemu (x) y)").replacingOccurrences(of: "116 0 0 0 0 0 0 0 20", with: "116 0 0 0 7 5 0 0 20")
        let progress = try #require(ProcessProgress(io: Self.io, stat: tricky))
        #expect(progress.cpuTicks == 12)
    }

    @Test func onlyIOCountsAsProgress() throws {
        let before = try #require(ProcessProgress(io: Self.io, stat: Self.stat))
        var cpuOnly = before
        cpuOnly.cpuTicks += 100
        #expect(!cpuOnly.ioMoved(since: before))
        var wrote = before
        wrote.writtenChars += 1
        #expect(wrote.ioMoved(since: before))
    }

    @Test func malformedProcTextIsRejected() {
        #expect(ProcessProgress(io: "", stat: Self.stat) == nil)
        #expect(ProcessProgress(io: Self.io, stat: "garbage") == nil)
    }
}

@Suite struct ExitCodeTests {
    @Test func outcomesMapToDocumentedStatuses() {
        #expect(SandboxExitCode.status(for: .completed(.exited(7))) == 7)
        #expect(SandboxExitCode.status(for: .completed(.signaled(9))) == 137)
        #expect(SandboxExitCode.status(for: .guestPanic("sysrq")) == 120)
        #expect(SandboxExitCode.status(for: .bootFailed("x")) == 121)
        #expect(SandboxExitCode.status(for: .timedOut(seconds: 5)) == 124)
        #expect(SandboxExitCode.status(for: .interrupted) == 130)
        #expect(SandboxExitCode.setupError.rawValue == 125)
    }

    @Test func ksandCodesAreDistinct() {
        let codes = SandboxExitCode.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        #expect(!codes.contains(126) && !codes.contains(127))
    }
}

@Suite struct ConsoleTailTests {
    @Test func aPanicShowsTheLinesLeadingUpToIt() {
        var lines = (0..<60).map { ConsoleLine(hostSeconds: Double($0), kernelSeconds: nil, text: "line \($0)") }
        lines[40].text = "Kernel panic - not syncing: sysrq triggered crash"
        let tail = SandboxRunner.tail(of: lines)
        #expect(tail.count == 25)
        #expect(tail[22] == "Kernel panic - not syncing: sysrq triggered crash")
        #expect(tail.first == "line 18" && tail.last == "line 42")
    }

    @Test func otherwiseTheLastLines() {
        let lines = (0..<60).map { ConsoleLine(hostSeconds: Double($0), kernelSeconds: nil, text: "line \($0)") }
        #expect(SandboxRunner.tail(of: lines) == (35..<60).map { "line \($0)" })
        #expect(SandboxRunner.tail(of: []) == [])
    }
}

@Suite struct NoiseFloorTests {
    /// Counters of an idle QEMU one second apart (recorded): 16 bytes of eventfd reads and writes each way.
    @Test func anIdleEventLoopIsBelowTheFloorAndAFlushIsAbove() throws {
        let stat = ProcessProgressTests.stat
        let idle1 = try #require(ProcessProgress(io: "rchar: 2742833\nwchar: 16228\nread_bytes: 0\nwrite_bytes: 0\n", stat: stat))
        let idle2 = try #require(ProcessProgress(io: "rchar: 2742849\nwchar: 16244\nread_bytes: 0\nwrite_bytes: 0\n", stat: stat))
        #expect(idle2.ioMoved(since: idle1))
        #expect(!idle2.ioMoved(since: idle1, atLeast: StopPolicy().noiseFloorBytes))
        var flushed = idle2
        flushed.writtenChars += 65536
        #expect(flushed.ioMoved(since: idle1, atLeast: StopPolicy().noiseFloorBytes))
        var disk = idle1
        disk.writtenBytes += 4096
        #expect(disk.ioMoved(since: idle1, atLeast: 1 << 30))
    }
}
