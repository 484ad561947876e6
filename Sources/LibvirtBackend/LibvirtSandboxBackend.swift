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
    /// Where the domains go.
    public enum Connection: Sendable, Equatable {
        /// A connection URI: `qemu:///system`, `qemu:///session`, `qemu:///embed?root=DIR`.
        case uri(String)
        /// The embedded driver on the first root of the pool `base`, `base-2`, … that no other process holds
        /// (``EmbeddedDriverRoot/claimFirstFree(base:count:asRoot:)``), chosen when the first sandbox starts.
        case embeddedPool(base: String)
    }

    public var connection: Connection

    public init(uri: String) { connection = .uri(uri) }
    public init(embeddedPoolBase base: String) { connection = .embeddedPool(base: base) }

    public var name: String { "libvirt" }

    /// The URI given, nil for the pool (its root is known once chosen).
    public var connectURI: String? {
        if case .uri(let uri) = connection { return uri }
        return nil
    }

    public func run<Body: Sendable>(
        _ sandbox: PreparedSandbox, runDirectory: String, body: @Sendable (any RunningMachine) async throws -> Body
    ) async throws(SandboxError) -> MachineRun<Body> {
        guard sandbox.spec.network == nil else {
            throw .backendFailed(
                backend: name, reason: "--publish and --net are not available on the libvirt backend yet (its user network "
                    + "cannot forward ports without passt); run them on the direct QEMU backend (--backend qemu)")
        }
        let uri: String
        let domain: LibvirtDomain
        let console: LibvirtConsoleStream
        let qemuPID: pid_t?
        var parsed: LibvirtURI?
        do {
            switch self.connection {
            case .uri(let given):
                uri = given
                // Claimed before the connection opens: libvirt's own lock on the root exists only while it is open.
                if let root = LibvirtURI(given)?.embeddedRoot { _ = try EmbeddedDriverRoot.prepare(at: root) }
            case .embeddedPool(let base):
                uri = try EmbeddedDriverRoot.claimFirstFree(base: base).uri
            }
            parsed = LibvirtURI(uri)
            // The embedded driver's QEMUs are daemons of this process: reap them here, not late by init.
            if parsed?.isEmbedded == true { OrphanReaper.adoptOrphans() }
            let opened = try LibvirtConnection(uri: uri)
            let definition = DomainDefinition(sandbox: sandbox, runDirectory: runDirectory, name: Self.domainName(), systemURI: parsed?.path == "/system")
            do {
                domain = try opened.createTransientDomain(xml: try definition.xmlString(), autodestroy: true, paused: true)
            } catch {
                // A QEMU that died while the domain was being created, and libvirt's capability probes.
                if parsed?.isEmbedded == true { OrphanReaper.reapExitedDaemons() }
                throw error
            }
        } catch {
            throw .backendFailed(backend: name, reason: "\(error)")
        }
        // The QEMU pid is looked up once (a pid file and its command line), not at every sample of a stop, and
        // registered for reaping before anything else can fail.
        qemuPID = domain.qemuPID
        if parsed?.isEmbedded == true {
            if let qemuPID { OrphanReaper.reapWhenItExits(qemuPID) }
            OrphanReaper.reapExitedDaemons()
        }
        do {
            console = try LibvirtConsoleStream(domain: domain)
            try domain.resume()
        } catch {
            try? domain.destroy()
            throw .backendFailed(backend: name, reason: "\(error)")
        }
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
