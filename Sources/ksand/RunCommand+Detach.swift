import ArgumentParser
import Foundation
import LibvirtBackend
import Sandbox
import Synchronization

/// `ksand run --detach`: the foreground half starts a supervising `ksand run` in its own session and returns once
/// the guest is up; the supervising half runs the sandbox with its streams in the state directory and leaves
/// its result there.
extension RunCommand {
    /// How long the foreground waits for the guest's init before leaving it to boot in the background.
    static let detachReadyWait: Duration = .seconds(180)

    /// Starts the supervisor and waits until the guest is up (exit 0, name on stdout) or the supervisor has ended
    /// (its own status, with what it reported). Never returns normally.
    func startDetached() throws -> Never {
        let registry = SandboxRegistry()
        let sandbox: DetachedSandbox
        let supervisor: pid_t
        do {
            sandbox = try registry.create(named: name ?? registry.freshName())
            supervisor = try DetachedLauncher.spawn(
                executable: try selfExecutable(), arguments: supervisorArguments(stateDirectory: sandbox.directory),
                stderrPath: sandbox.supervisorLogPath)
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        // Ctrl-C while the sandbox comes up cancels it: the supervisor stops the VM as it would for `ksand stop`.
        let interrupted = InterruptFlag()
        let trap = SignalTrap { _ in
            if !interrupted.isSet { kill(supervisor, SIGTERM) }
            interrupted.set()
        }
        defer { _ = trap }
        let deadline = ContinuousClock.now + RunCommand.detachReadyWait
        while true {
            var status: Int32 = 0
            if waitpid(supervisor, &status, WNOHANG) == supervisor {
                if interrupted.isSet {
                    registry.remove(sandbox)
                    report("interrupted; sandbox \(sandbox.name) was stopped")
                    throw ExitCode(SandboxExitCode.interrupted.rawValue)
                }
                // It ended before (or right as) the guest came up: show what it said and keep only a real result.
                let log = (try? String(contentsOfFile: sandbox.supervisorLogPath, encoding: .utf8)) ?? ""
                if !log.isEmpty { FileHandle.standardError.write(Data(log.utf8)) }
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                if sandbox.result == nil { registry.remove(sandbox) } else { report("sandbox \(sandbox.name) has already ended; its output is in \(sandbox.directory)") }
                throw ExitCode(code)
            }
            if !interrupted.isSet, let record = sandbox.record, record.ready {
                print(sandbox.name)
                let domain = record.domainUUID.map { ", libvirt domain \($0) on \(record.connectURI ?? "?")" } ?? ""
                report("sandbox \(sandbox.name) is running (ksand pid \(record.supervisor.pid), QEMU pid \(record.qemu.map { String($0.pid) } ?? "?")\(domain)); stop it with `ksand stop \(sandbox.name)`")
                throw ExitCode.success
            }
            if !interrupted.isSet && ContinuousClock.now >= deadline {
                print(sandbox.name)
                report("sandbox \(sandbox.name) is still booting after \(Int(RunCommand.detachReadyWait.seconds))s; see `ksand ps` and \(sandbox.consoleLogPath)")
                throw ExitCode.success
            }
            usleep(20_000)
        }
    }

    /// Sets the runner up for a supervised run: streams and console into the state directory, the record kept
    /// up to date as QEMU starts and the init says hello.
    func supervise(_ sandbox: DetachedSandbox, prepared: PreparedSandbox, runner: inout SandboxRunner) throws {
        let stdout = open(sandbox.stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let stderr = open(sandbox.stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard stdout >= 0, stderr >= 0 else { throw SandboxError.io(what: "cannot create", path: sandbox.stdoutPath, errno: errno) }
        runner.io = SandboxIO(stdin: nil, stdout: stdout, stderr: stderr)
        runner.runDirectory = sandbox.directory
        if runner.consoleLog == nil { runner.consoleLog = sandbox.consoleLogPath }
        guard let me = ProcessIdentity.of(getpid()) else { throw SandboxError.io(what: "cannot read", path: "/proc/self/stat", errno: errno) }
        var record = DetachedSandbox.Record(name: sandbox.name, supervisor: me, command: command, startedAt: Date().timeIntervalSince1970)
        record.machine = prepared.machine.rawValue
        record.accelerator = prepared.accelerator.rawValue
        record.published = prepared.spec.network?.publish
        record.outboundNetwork = prepared.spec.network?.outbound
        // Known before the VM starts, so that `ksand ps` names the backend of a sandbox that is still booting.
        record.backend = runner.backend.name
        record.connectURI = (runner.backend as? LibvirtSandboxBackend)?.connectURI
        let keeper = RecordKeeper(sandbox: sandbox, record: record)
        try sandbox.write(record)
        runner.onStart = { machine in
            keeper.update {
                $0.qemu = machine.process
                $0.backend = machine.backend
                $0.connectURI = machine.connectURI
                $0.domainUUID = machine.domainUUID
            }
        }
        runner.onGuestReady = { powerButton in keeper.update { $0.ready = true; $0.powerButton = powerButton } }
    }

    private func selfExecutable() throws -> String {
        guard let path = ExecutableLookup.currentExecutable else {
            throw SandboxError.io(what: "cannot find ksand's own executable at", path: "/proc/self/exe", errno: errno)
        }
        return path
    }

    /// This invocation's arguments with `--detach` and `--name` replaced by `--supervise DIR`.
    private func supervisorArguments(stateDirectory: String) -> [String] {
        let given = Array(CommandLine.arguments.dropFirst())
        let terminator = given.firstIndex(of: "--") ?? given.count
        var options: [String] = []
        var index = 0
        while index < terminator {
            let argument = given[index]
            index += 1
            if argument == "--detach" || argument.hasPrefix("--name=") { continue }
            if argument == "--name" { index += 1; continue }
            options.append(argument)
        }
        return options + ["--supervise", stateDirectory] + given[terminator...]
    }
}

extension DetachedSandbox {
    /// The stall window and cap `ksand stop` asked for, if it left a request.
    var requestedStopPolicy: StopPolicy? {
        stopRequest.map {
            StopPolicy(stallWindow: .milliseconds(Int($0.stallWindowSeconds * 1000)), maxWait: .milliseconds(Int($0.maxWaitSeconds * 1000)))
        }
    }
}

/// Set from a signal handler, read by the waiting loop.
private final class InterruptFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
}

/// Rewrites a detached sandbox's record from the runner's threads, one change at a time.
private final class RecordKeeper: Sendable {
    private let sandbox: DetachedSandbox
    private let record: Mutex<DetachedSandbox.Record>

    init(sandbox: DetachedSandbox, record: DetachedSandbox.Record) {
        self.sandbox = sandbox
        self.record = Mutex(record)
    }

    func update(_ change: (inout DetachedSandbox.Record) -> Void) {
        record.withLock { record in
            change(&record)
            do { try sandbox.write(record) } catch { report("warning: \(error)") }
        }
    }
}
