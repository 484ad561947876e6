import Foundation
import Sandbox
import SandboxProtocol

/// Sandboxes as libvirt domains: a transient domain per run, visible to `virsh` while it runs, started paused so
/// that its console stream is open before the kernel prints its first line, and destroyed by libvirt when it powers
/// off, reboots or crashes (`on_poweroff`, `on_reboot`, `on_crash`).
///
/// The embedded driver (`qemu:///embed?root=DIR`) needs no daemon: its root is prepared (``EmbeddedDriverRoot``) before
/// the connection opens. libvirt allows one embedded root per process.
public struct LibvirtSandboxBackend: SandboxBackend {
    /// The connection URI: `qemu:///system`, `qemu:///session`, `qemu:///embed?root=DIR`.
    public var uri: String

    public init(uri: String) { self.uri = uri }

    public var name: String { "libvirt" }

    public func run<Body: Sendable>(
        _ sandbox: PreparedSandbox, runDirectory: String, body: @Sendable (any RunningMachine) async throws -> Body
    ) async throws(SandboxError) -> MachineRun<Body> {
        let parsed = LibvirtURI(uri)
        let connection: LibvirtConnection
        let domain: LibvirtDomain
        let console: LibvirtConsoleStream
        do {
            if let root = parsed?.embeddedRoot {
                if let holder = EmbeddedDriverRoot(path: root).holder { throw EmbeddedDriverRootError.inUse(path: root, pid: holder) }
                _ = try EmbeddedDriverRoot.prepare(at: root)
                // The embedded driver's QEMUs are daemons of this process: reap them here, not late by init.
                OrphanReaper.adoptOrphans()
            }
            connection = try LibvirtConnection(uri: uri)
            let definition = DomainDefinition(sandbox: sandbox, runDirectory: runDirectory, name: Self.domainName(), systemURI: parsed?.path == "/system")
            domain = try connection.createTransientDomain(xml: try definition.xmlString(), autodestroy: true, paused: true)
        } catch {
            throw .backendFailed(backend: name, reason: "\(error)")
        }
        do {
            console = try LibvirtConsoleStream(domain: domain)
            try domain.resume()
        } catch {
            try? domain.destroy()
            throw .backendFailed(backend: name, reason: "\(error)")
        }
        // The QEMU pid is looked up once (a pid file and its command line), not at every sample of a stop.
        let qemuPID = domain.qemuPID
        if let qemuPID { OrphanReaper.reapWhenItExits(qemuPID) }
        let machine = LibvirtMachine(domain: domain, console: console, connectURI: uri, qemuPID: qemuPID)
        let result: Body
        do {
            result = try await body(machine)
        } catch {
            try? domain.destroy()
            throw .backendFailed(backend: name, reason: "\(error)")
        }
        // The console closes as QEMU goes; libvirt's own record of the domain follows within moments.
        let ending = try? await domain.waitUntilGone(timeout: .seconds(10))
        if ending?.isGone != true { try? domain.destroy() }
        console.close()
        return MachineRun(body: result, termination: ending.map(Self.describe) ?? "destroyed (libvirt did not report its end)",
                          exitCode: nil, diagnostics: Self.logTail(of: domain, uri: parsed))
    }

    /// `ksand-` and 12 random hex digits: unique among the domains of one host.
    static func domainName() -> String {
        "ksand-" + String(UInt64.random(in: 0...UInt64.max), radix: 16).suffix(12)
    }

    static func describe(_ outcome: LibvirtWaitOutcome) -> String {
        switch outcome {
        case .gone(let event): return "\(event)"
        case .wasNotRunning: return "stopped"
        case .timedOut: return "still running"
        case .cancelled: return "cancelled"
        }
    }

    /// The last 64 KiB of QEMU's log for the domain, which holds QEMU's own errors.
    static func logTail(of domain: LibvirtDomain, uri: LibvirtURI?) -> String {
        guard let directory = uri?.qemuLogDirectory(), let handle = FileHandle(forReadingAtPath: "\(directory)/\(domain.name).log") else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 65_536 ? size - 65_536 : 0)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }
}

/// A running sandbox domain, as the runner sees it.
struct LibvirtMachine: RunningMachine {
    let domain: LibvirtDomain
    let console: LibvirtConsoleStream
    let connectURI: String
    /// The domain's QEMU when it runs on this host.
    let qemuPID: pid_t?

    var identity: MachineIdentity {
        MachineIdentity(backend: "libvirt", process: qemuPID.flatMap(ProcessIdentity.of), connectURI: connectURI, domainUUID: domain.uuid)
    }

    var stopTarget: any StopTarget { LibvirtDomainStopTarget(domain: domain, qemuPID: qemuPID) }

    func readConsole(_ consume: (UnsafeRawBufferPointer) -> Void) async throws {
        for await chunk in console.chunks { chunk.withUnsafeBytes { consume($0) } }
    }

    func pressPowerButton() throws { try domain.shutdown(.acpiPowerButton) }
    var powerButtonDescription: String { "pressed the ACPI power button (virDomainShutdownFlags ACPI_POWER_BTN)" }
}

/// A domain for the reaper: its QEMU's /proc counters when the QEMU runs on this host, libvirt's statistics
/// otherwise; a graceful destroy (SIGTERM to QEMU), then a destroy.
struct LibvirtDomainStopTarget: StopTarget {
    let domain: LibvirtDomain
    let qemuPID: pid_t?

    var name: String { "domain \(domain.name)" }

    func progress() -> ProcessProgress? {
        if let qemuPID { return ProcessProgress.sample(pid: qemuPID) }
        guard (try? domain.isActive()) == true, let stats = try? domain.progress() else { return nil }
        return ProcessProgress(readChars: 0, writtenChars: 0, readBytes: stats.blockReadBytes, writtenBytes: stats.blockWrittenBytes,
                               cpuTicks: (stats.cpuTimeNanoseconds ?? 0) / 10_000_000)
    }

    var terminateStep: String { "destroying domain \(domain.name) gracefully (virDomainDestroyFlags GRACEFUL: SIGTERM to its QEMU)" }
    func terminate() { try? domain.destroy(graceful: true) }
    var killStep: String { "destroying domain \(domain.name) (virDomainDestroy)" }
    func kill() { try? domain.destroy() }
}
