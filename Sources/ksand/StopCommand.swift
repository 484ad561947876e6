import ArgumentParser
import BootTimeline
import Foundation
import KsandFoundation
import Sandbox

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop detached sandboxes (or any process) without losing data: ask, then escalate only once I/O stalls.",
        discussion: """
            ksand stop NAME... / --all: the sandbox's guest is asked to power off (the ACPI power button over QMP
            when its init watches it, else a message on the command channel); the init syncs, SIGTERMs the
            command's process group, SIGKILLs what is left after its grace period, syncs again and powers off.
            Meanwhile QEMU's /proc/PID/io and CPU time are sampled about every 100 ms: while its I/O keeps moving
            ksand waits (up to --max-wait); once it has been still for --stall, QEMU gets SIGTERM, and by the same
            rule SIGKILL. The entry is then removed (--keep leaves its state directory: logs and result).

            ksand stop --pid PID: the same reaper for any process, starting at SIGTERM.

            A NAME is a sandbox's name, never a path: letters, digits, '.', '_' and '-', starting with a letter or
            digit, 40 at most. Only state directories ksand made are stopped and removed.

            Exit status: 0 when everything named was stopped (or had already ended), 1 when a name is not a
            sandbox name (nothing is stopped then) or is unknown, a process is not there, a sandbox could not be
            stopped, or the runtime directory is not the caller's own.
            """
    )

    @Argument(help: ArgumentHelp("Detached sandboxes to stop (see `ksand ps`).", valueName: "NAME")) var names: [String] = []
    @Flag(help: "Stop every detached sandbox.") var all = false
    @Option(help: ArgumentHelp("Stop this process instead of a sandbox.", valueName: "PID")) var pid: Int32?
    @Option(help: ArgumentHelp("Seconds of still I/O after which ksand escalates.", valueName: "SECONDS")) var stall: Double = 2
    @Option(help: ArgumentHelp("Seconds to wait at most while I/O still moves.", valueName: "SECONDS")) var maxWait: Double = 300
    @Flag(help: "Keep a stopped sandbox's state directory (console log, stdout, stderr, result) instead of removing it.") var keep = false
    @Option(help: ArgumentHelp("Write the stop reports as JSON to this file.", valueName: "FILE")) var json: String?
    @Flag(name: .shortAndLong, help: "Show each step and its counters.") var verbose = false

    func validate() throws {
        let targets = (names.isEmpty ? 0 : 1) + (all ? 1 : 0) + (pid == nil ? 0 : 1)
        if targets != 1 { throw ValidationError("name what to stop: sandbox names, --all, or --pid PID (one of them)") }
        if let pid, pid <= 1 { throw ValidationError("--pid \(pid): not a process ksand may stop") }
        if !DurationLimit.accepts(stall) || !DurationLimit.accepts(maxWait) {
            throw ValidationError("--stall and --max-wait must be positive numbers of seconds, at most \(Int(DurationLimit.longestSeconds)) (a week)")
        }
        if maxWait < stall { throw ValidationError("--max-wait \(maxWait) is shorter than --stall \(stall)") }
        let refused = names.filter { !SandboxRegistry.isValidName($0) }
        for name in refused { report("error: \(SandboxError.invalidSandboxName(name))") }
        if !refused.isEmpty { throw ExitCode(1) }
    }

    private var policy: StopPolicy {
        StopPolicy(stallWindow: .milliseconds(Int(stall * 1000)), maxWait: .milliseconds(Int(maxWait * 1000)))
    }

    func run() async throws {
        if let pid { return try await stopProcess(pid) }
        let registry = SandboxRegistry()
        var sandboxes: [DetachedSandbox] = []
        var failed = false
        do {
            if all {
                sandboxes = try registry.all()
            } else {
                for name in names {
                    if let sandbox = try registry.sandbox(named: name) {
                        sandboxes.append(sandbox)
                    } else {
                        report("error: no detached sandbox named \(name) (`ksand ps` lists them)")
                        failed = true
                    }
                }
            }
        } catch {
            report("error: \(error)")
            throw ExitCode(1)
        }
        // Stopped side by side: each waits on its own guest.
        let outcomes = await withTaskGroup(of: (Int, DetachedStop.Outcome).self) { group in
            for (index, sandbox) in sandboxes.enumerated() {
                let policy = self.policy
                group.addTask { (index, await DetachedStop(sandbox: sandbox, policy: policy).run()) }
            }
            var collected: [(Int, DetachedStop.Outcome)] = []
            for await outcome in group { collected.append(outcome) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for (sandbox, outcome) in zip(sandboxes, outcomes) {
            report("\(sandbox.name): \(outcome.summary)")
            if verbose { for line in outcome.log { report("  " + line) } }
            if outcome.failed { failed = true }
            if keep || outcome.failed {
                if outcome.failed == false { report("\(sandbox.name): its state directory is kept: \(sandbox.directory)") }
            } else {
                registry.remove(sandbox)
            }
        }
        if let json {
            try write(zip(sandboxes, outcomes).map { sandbox, outcome in outcome.report(name: sandbox.name) }, to: json)
        }
        if failed { throw ExitCode(1) }
    }

    private func stopProcess(_ pid: Int32) async throws {
        guard ProcessProgress.sample(pid: pid) != nil else {
            report("error: no running process \(pid) (or its /proc/\(pid)/io is not readable: stopping another user's process needs root)")
            throw ExitCode(1)
        }
        var log: (@Sendable (String) -> Void)?
        if verbose { log = { @Sendable line in report(line) } }
        let stopReport = await Reaper.stop(pid: pid, policy: policy, log: log)
        report("process \(pid) \(stopReport.description)")
        if let json {
            try write(ProcessStopReport(pid: pid, report: stopReport), to: json)
        }
    }

    private func write(_ document: some Encodable, to path: String) throws {
        let data = try JSONDocument.prettyPrinted(document)
        guard FileManager.default.createFile(atPath: absolute(path), contents: data) else {
            report("error: cannot write \(path)")
            throw ExitCode(1)
        }
    }
}
