import ArgumentParser
import BootTimeline
import Foundation
import KernelBuild
import ProjectFile
import QEMU
import Sandbox

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a throwaway VM whose root is the host's /, read-only over virtio-9p.",
        discussion: """
            /tmp and /home get a tmpfs-backed overlay: writable, discarded at exit. The command runs as the caller,
            in the caller's directory, with a clean environment (PATH, HOME, USER, LOGNAME, TERM, LANG) plus --env.
            Its stdout and stderr arrive separately and byte-exact; stdin is forwarded.

            With --detach the sandbox runs in the background: ksand returns once the guest's init is up and prints
            the sandbox's name. `ksand ps` lists detached sandboxes, `ksand stop NAME` stops one; the command's
            stdout, stderr and the console log are kept in the sandbox's state directory (`ksand ps -v` shows it).
            """
    )

    @Option(help: ArgumentHelp(
        "bzImage to boot, or `built`: the kernel `ksand kernel build` made from the project's current inputs "
            + "(default: the project's [sandbox] kernel, else the newest /boot/vmlinuz-*).", valueName: "PATH|built")) var kernel: String?
    @Option(help: ArgumentHelp("Project file (default: the nearest ksand.toml); its [sandbox] section gives defaults.", valueName: "FILE")) var project: String?
    @OptionGroup var machineOptions: MachineOptions
    @Option(help: "Stop the sandbox after this many seconds (exit status 124).") var timeout: Double?
    @Option(help: ArgumentHelp("When stopping the VM (timeout, Ctrl-C): seconds of still I/O before escalating to the next step.", valueName: "SECONDS")) var stall: Double = 2
    @Option(help: ArgumentHelp("When stopping the VM: seconds to wait at most while its I/O still moves.", valueName: "SECONDS")) var maxWait: Double = 300
    @Option(help: ArgumentHelp("When stopping the VM: seconds the command's process group has between SIGTERM and SIGKILL inside the guest.", valueName: "SECONDS")) var grace: Double = 2
    @Flag(help: "Run the sandbox in the background; return once its init is up (stdin is /dev/null, output goes to its state directory).") var detach = false
    @Option(help: ArgumentHelp("Name of the detached sandbox (default: the first free sandbox-N).", valueName: "NAME")) var name: String?
    @Option(help: ArgumentHelp(visibility: .private)) var supervise: String?
    @Option(name: .customLong("env"), help: ArgumentHelp("Set a variable in the command's environment.", valueName: "K=V")) var environment: [String] = []
    @Option(help: "Working directory inside the sandbox (default: the current one).") var cwd: String?
    @Option(help: ArgumentHelp("Run as this user (default: the caller).", valueName: "UID[:GID]")) var user: String?
    @Option(help: ArgumentHelp("Give PATH a tmpfs-backed overlay (repeatable; /tmp and /home always have one unless --no-default-overlays).", valueName: "PATH")) var overlay: [String] = []
    @Flag(help: "Do not put overlays on /tmp and /home.") var noDefaultOverlays = false
    @Option(help: ArgumentHelp("Mount an empty tmpfs at PATH (repeatable).", valueName: "PATH")) var tmpfs: [String] = []
    @Option(help: ArgumentHelp("Share a host directory read-write at the same path (repeatable).", valueName: "DIR")) var rw: [String] = []
    @Option(name: [.customShort("p"), .customLong("publish")], help: ArgumentHelp(
        "Forward a host port to a port in the guest (repeatable): the guest gets a network interface that nothing "
            + "leaves unless --net; the host side listens on 127.0.0.1 unless ADDRESS is given.",
        valueName: "[ADDRESS:]HOST_PORT:GUEST_PORT[/tcp|/udp]")) var publish: [String] = []
    @Flag(name: .customLong("net"), help: "Let the guest open connections out, through QEMU's user-mode NAT (name servers too). Without --net or --publish the guest has no network device, only its loopback.") var net = false
    @Option(help: "Copy the kernel's serial console to this file.") var consoleLog: String?
    @Flag(help: "Prefix console-log lines with their host arrival time in seconds.") var consoleTimestamps = false
    @Option(help: ArgumentHelp("The console log's size limit (bytes, or with K, M, G); past it the log says how much it left out.", valueName: "SIZE"))
    var consoleLogLimit = ByteCount(bytes: SandboxRunner.defaultConsoleLogLimit)
    @Option(name: .customLong("append"), help: ArgumentHelp("Extra kernel command-line argument (repeatable).", valueName: "ARG")) var kernelArguments: [String] = []
    @Flag(help: "Boot the bzImage itself instead of its cached, unpacked PVH ELF.") var noDirectBoot = false
    @Option(help: "QEMU binary.") var qemu: String = "qemu-system-x86_64"
    @Flag(help: "Give the command /dev/null as stdin.") var noStdin = false
    @Flag(help: "Boot the kernel instead of starting from the snapshot of this machine's boot (made on first use, kept in the cache; `ksand snapshot list`).") var cold = false
    @Flag(help: "Print the boot timeline (phases) to stderr when the run ends.") var timeline = false
    @Flag(help: "Print the largest gaps between kernel messages during boot and shutdown, and with `--append initcall_debug --append ignore_loglevel` the slowest initcalls.") var blame = false
    @Option(help: ArgumentHelp("Write the result (outcome, status, phases, blame) as JSON to this file.", valueName: "PATH")) var json: String?
    @Flag(name: .shortAndLong, help: "Show what ksand does (stop steps, accelerator, images).") var verbose = false
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        try machineOptions.validateBackend()
        if command.isEmpty { throw ValidationError("no command given: ksand run [options] -- COMMAND [ARGS...]") }
        for variable in environment where !variable.contains("=") || variable.hasPrefix("=") {
            throw ValidationError("--env \(variable): expected KEY=VALUE")
        }
        if stall <= 0 || maxWait < stall { throw ValidationError("--stall must be positive and --max-wait at least --stall") }
        if grace < 0 { throw ValidationError("--grace must not be negative") }
        if name != nil && !detach { throw ValidationError("--name names a detached sandbox: add --detach") }
        if let name, !SandboxRegistry.isValidName(name) {
            // Refused like any other setup error, so the status cannot be mistaken for the command's own.
            report("error: --name \(SandboxError.invalidSandboxName(name))")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        do {
            _ = try Self.network(publish: publish, outbound: net)
        } catch {
            // Before a detached sandbox's supervisor starts, and refused like any other setup error.
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        if let user, userAndGroup(user) == nil { throw ValidationError("--user \(user): expected UID or UID:GID (numbers)") }
    }

    func run() async throws {
        let detached: DetachedSandbox?
        do {
            // Before anything is prepared: the run's sockets go there.
            try RuntimeDirectory.prepare()
            detached = try supervise.map { path throws(SandboxError) in try SandboxRegistry().sandbox(atPath: path) }
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        if detach { try startDetached() }
        var env: [String: String] = [:]
        for variable in environment {
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            env[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let identity = user.flatMap(userAndGroup)
        let projectFile: ProjectFile?
        let kernelPath: String?
        let snapshots: SnapshotStore?
        let network: SandboxNetwork?
        do {
            projectFile = try project.map { try ProjectFile(contentsOf: absolute($0)) }
                ?? ProjectFile.find(from: FileManager.default.currentDirectoryPath).map { try ProjectFile(contentsOf: $0) }
            kernelPath = try await resolveKernel(kernel ?? projectFile?.sandbox.kernel, project: projectFile)
            snapshots = cold ? nil : try SnapshotCommand.store()
            network = try Self.network(publish: publish, outbound: net)
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        var spec = SandboxSpec(
            kernel: kernelPath, command: command, environment: env, workingDirectory: cwd, uid: identity?.0,
            gid: identity?.1, overlays: (noDefaultOverlays ? [] : ["/tmp", "/home"]) + overlay, tmpfs: tmpfs,
            readWrite: rw.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
            directBoot: !noDirectBoot, qemu: qemu, forwardStdin: !noStdin && detached == nil, stallWindowSeconds: stall,
            maxStopWaitSeconds: maxWait, terminateGraceSeconds: grace, network: network)
        machineOptions.apply(to: &spec, project: projectFile?.sandbox, timeout: timeout, kernelArguments: kernelArguments)
        let control = RunControl()
        let trap = SignalTrap { _ in control.interrupt(policy: detached?.requestedStopPolicy) }
        let verbose = self.verbose
        let result: SandboxResult
        var systemMap: String?
        do {
            let prepared = try await SandboxPreparer().prepare(spec)
            systemMap = [(prepared.kernel.path as NSString).deletingLastPathComponent + "/System.map", "/boot/System.map-\(prepared.kernel.release)"]
                .first { FileManager.default.isReadableFile(atPath: $0) }
            if let warning = prepared.acceleratorWarning { report("warning: " + warning) }
            if verbose {
                report("kernel \(prepared.kernel.release) (\(prepared.bootImage)), initramfs \(prepared.initramfs), accelerator \(prepared.accelerator.rawValue), machine \(prepared.machine.rawValue)")
                if prepared.machineKernelArguments.contains(where: { $0.hasPrefix("tsc_early_khz=") }), let tsc = HostTSC.current {
                    report("tsc_early_khz: the host's TSC rate, \(tsc)")
                }
            }
            var diagnostics: (@Sendable (String) -> Void)?
            if verbose { diagnostics = { @Sendable line in report("stop: " + line) } }
            var runner = SandboxRunner(
                consoleLog: consoleLog, timestampConsoleLog: consoleTimestamps, control: control, diagnostics: diagnostics,
                backend: machineOptions.sandboxBackend(project: projectFile?.sandbox))
            runner.consoleLogLimit = consoleLogLimit.bytes
            runner.snapshots = snapshots
            runner.warnings = { @Sendable warning in report("warning: " + warning) }
            if verbose { runner.notes = { @Sendable note in report(note) } }
            if let detached { try supervise(detached, prepared: prepared, runner: &runner) }
            result = try await runner.run(prepared)
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        _ = trap
        describe(result)
        if blame { printBlame(result, systemMap: systemMap) }
        let status = SandboxExitCode.status(for: result.outcome)
        if let json, !FileManager.default.createFile(atPath: json, contents: result.jsonReport(exitStatus: status)) {
            report("warning: cannot write \(json)")
        }
        if let detached {
            do { try detached.writeResult(result.jsonReport(exitStatus: status)) } catch { report("error: \(error)") }
        }
        throw ExitCode(status)
    }

    private func describe(_ result: SandboxResult) {
        let tail = { (why: String) in
            report(why)
            if !result.consoleTail.isEmpty {
                report("last console lines:\n" + result.consoleTail.map { "  | " + $0 }.joined(separator: "\n"))
            }
            if let log = consoleLog { report("full console log: \(log)") }
        }
        switch result.outcome {
        case .completed: break
        case .guestPanic(let reason): tail("guest kernel panic: \(reason)")
        case .bootFailed(let reason): tail("boot failed: \(reason)")
        case .timedOut(let seconds): report("timed out after \(seconds)s; \(result.stopReport.map(\.description) ?? "the VM was stopped")")
        case .interrupted: report("interrupted; \(result.stopReport.map(\.description) ?? "the VM was stopped")")
        case .protocolError(let error):
            tail("the guest broke the command channel's protocol: \(error); \(result.stopReport.map(\.description) ?? "the VM was stopped")")
        }
        if timeline {
            let start = result.timeline.start == .snapshot ? ", restored from a snapshot" : ""
            report("timeline (\(result.accelerator.rawValue)\(start)):\n" + TimelineTable.render(result.timeline))
        }
    }

    private func printBlame(_ result: SandboxResult, systemMap: String?) {
        let blame = Blame.compute(lines: result.consoleLines)
        let show = { (title: String, gaps: [ConsoleGap]) in
            report("largest \(title) gaps (kernel clock):" + (gaps.isEmpty ? " none measured" : ""))
            for gap in gaps { FileHandle.standardError.write(Data(("  " + gap.blameLine + "\n").utf8)) }
        }
        show("boot", blame.boot)
        show("shutdown", blame.shutdown)
        let symbols = systemMap.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map(SymbolMap.init(systemMap:))
        let initcalls = InitcallDuration.slowest(in: result.consoleLines, top: 10, symbols: symbols)
        if !initcalls.isEmpty {
            report("slowest initcalls:")
            for call in initcalls {
                FileHandle.standardError.write(Data("  \(DurationText.milliseconds(call.seconds).padding(toLength: 9, withPad: " ", startingAt: 0)) \(call.name)\n".utf8))
            }
        }
    }

    /// The guest's network from `--publish` and `--net`; nil when neither is given.
    static func network(publish: [String], outbound: Bool) throws(SandboxError) -> SandboxNetwork? {
        guard outbound || !publish.isEmpty else { return nil }
        var ports: [PortPublish] = []
        for text in publish { ports.append(try PortPublish(parsing: text)) }
        return SandboxNetwork(publish: ports, outbound: outbound)
    }

    /// A bzImage path as given, or for `built` the cached kernel of the project's current kernel inputs.
    private func resolveKernel(_ choice: String?, project: ProjectFile?) async throws -> String? {
        guard choice == "built" else { return choice }
        let request = try KernelInputOptions.parse([]).request(project: project)
        guard let artifact = try await KernelBuilder(request: request).cachedArtifact() else {
            throw KernelBuildError.notBuilt(project: project?.path)
        }
        return artifact.bzImage
    }
}
