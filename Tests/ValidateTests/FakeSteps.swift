import Foundation
import KernelBuild
import Synchronization
@testable import Validate

/// Answers a validator's builds and boots from a table: for each prefix, whether it applies and builds, its
/// warnings, and how long its boot and shutdown take (with a fixed spread of run-to-run noise).
final class FakeSteps: ValidationSteps {
    struct Kernel {
        var build: Build = .ok
        var warnings: [BuildDiagnostic] = []
        var bootMilliseconds = 2000.0
        var shutdownMilliseconds = 100.0
        var testProblem: String?
        var bootFails = false
        var cached = false
    }
    enum Build { case ok, doesNotApply, fails }

    let kernels: [Int: Kernel]
    /// Run-to-run noise, in ms, cycled through: a TCG boot's spread is tens of milliseconds.
    let noise: [Double]
    /// How much slower each boot is than the one before, in ms: a machine getting busier as the validation goes on.
    let drift: Double
    private let log = Mutex<(builds: [Int], runs: [Int: Int], boots: [Int])>(([], [:], []))

    init(_ kernels: [Int: Kernel], noise: [Double] = [-30, 12, 0, 25, -8, 40, -20, 5, -15, 30, -35, 18], drift: Double = 0) {
        self.kernels = kernels
        self.noise = noise
        self.drift = drift
    }

    var builtPrefixes: [Int] { log.withLock { $0.builds } }
    func runs(of prefix: Int) -> Int { log.withLock { $0.runs[prefix] ?? 0 } }
    /// The prefix of every boot, in the order they ran.
    var bootOrder: [Int] { log.withLock { $0.boots } }

    func build(prefix: Int) async throws -> PrefixBuild {
        log.withLock { $0.builds.append(prefix) }
        let kernel = kernels[prefix] ?? Kernel()
        switch kernel.build {
        case .doesNotApply:
            return .doesNotApply("patch \(prefix) does not apply: drivers/md/md.c, hunk @@ -9617,9 +9617,6 @@")
        case .fails:
            return .failed(errors: [BuildDiagnostic(file: "drivers/md/md.c", line: 9620, column: 2, severity: .error, message: "expected ';' before '}' token")],
                           tail: ["make: *** [Makefile:1250: vmlinux] Error 2"], logPath: "/cache/build.log")
        case .ok:
            return .built(BuiltPrefix(bzImage: "/cache/\(prefix)/bzImage", artifactKey: "key\(prefix)", cached: kernel.cached, buildSeconds: 40,
                                      diagnostics: kernel.warnings, kernelRelease: "6.1.0"))
        }
    }

    func measure(_ built: BuiltPrefix, runs: Int) async throws -> PrefixMeasurement {
        let prefix = Int(built.artifactKey.dropFirst(3))!
        let kernel = kernels[prefix] ?? Kernel()
        let (first, bootsBefore) = log.withLock { state -> (Int, Int) in
            let done = state.runs[prefix] ?? 0
            state.runs[prefix] = done + runs
            defer { state.boots += Array(repeating: prefix, count: runs) }
            return (done, state.boots.count)
        }
        let samples = (first..<first + runs).map { number -> RunSample in
            let jitter = noise[(number + prefix * 5) % noise.count] + drift * Double(bootsBefore + number - first)
            let gap = ConsoleGapNote(milliseconds: kernel.shutdownMilliseconds - 20, before: "ksand: power-off", after: "reboot: Power down",
                                     line: "\(Int(kernel.shutdownMilliseconds - 20)) ms after \"ksand: power-off\"")
            return RunSample(bootMilliseconds: kernel.bootFails ? nil : kernel.bootMilliseconds + jitter,
                             shutdownMilliseconds: kernel.bootFails ? nil : kernel.shutdownMilliseconds + jitter / 10,
                             problems: kernel.bootFails ? ["boot failed: no init found"] : kernel.testProblem.map { [$0] } ?? [],
                             bootFailed: kernel.bootFails, shutdownGaps: [gap], consoleTail: kernel.bootFails ? ["Kernel panic - not syncing"] : [])
        }
        return PrefixMeasurement(accelerator: "tcg", tests: [TestMeasurement(id: "command", shutdownBudgetMilliseconds: 300, runs: samples)])
    }
}

func patches(_ count: Int) -> [SeriesValidator.PatchInfo] {
    (1...count).map { .init(index: $0, subject: "patch number \($0)", touchedFiles: ["drivers/md/md.c", "file\($0).c"]) }
}

func warning(_ file: String, line: Int, _ message: String) -> BuildDiagnostic {
    BuildDiagnostic(file: file, line: line, column: 5, severity: .warning, message: message, option: "-Wunused-variable")
}
