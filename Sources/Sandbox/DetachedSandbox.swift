import Foundation
import KsandFoundation
import SandboxProtocol

/// A sandbox started with `ksand run --detach`: a state directory under ``SandboxRegistry/directory`` holding
/// its record (`state.json`), sockets (`qmp.sock`, `channel.sock`), logs (`console.log`, `stdout`, `stderr`,
/// `ksand.log`), once it has ended its result (`result.json`), and the marker ksand writes when it creates the
/// directory (`.ksand-sandbox`): only ``SandboxRegistry`` makes these, and only for directories carrying it.
public struct DetachedSandbox: Sendable {
    /// What the supervising ksand records about its sandbox; rewritten (atomically) as the sandbox comes up.
    public struct Record: Codable, Equatable, Sendable {
        public var name: String
        /// The ksand process that owns the VM and stops it.
        public var supervisor: ProcessIdentity
        public var qemu: ProcessIdentity?
        public var command: [String]
        /// Seconds since 1970 when the sandbox was started.
        public var startedAt: Double
        /// The guest init is up and has the command.
        public var ready: Bool
        /// The init watches the ACPI power button (a QMP `system_powerdown` reaches it).
        public var powerButton: Bool
        public var machine: String?
        public var accelerator: String?
        /// What runs the VM (``SandboxBackend/name``: `qemu`, `libvirt`); nil in records written before backends.
        public var backend: String?
        /// For a libvirt domain: the connection URI and the domain's UUID, so `virsh -c URI dominfo UUID` finds it.
        public var connectURI: String?
        public var domainUUID: String?
        /// The host ports forwarded into the guest (`--publish`); nil or empty: none.
        public var published: [PortPublish]?
        /// The guest may open connections out (`--net`); nil: it may not.
        public var outboundNetwork: Bool?

        /// Whether ksand itself runs the VM's QEMU, so its QMP socket is in the state directory.
        public var ownsQMP: Bool { backend == nil || backend == "qemu" }

        public init(name: String, supervisor: ProcessIdentity, command: [String], startedAt: Double) {
            self.name = name
            self.supervisor = supervisor
            self.command = command
            self.startedAt = startedAt
            self.ready = false
            self.powerButton = false
        }
    }

    public enum State: Equatable, Sendable {
        /// Its supervisor runs; `ready` once the guest init is up.
        case running(ready: Bool)
        /// It ended; the status its `ksand run` would have exited with.
        case exited(status: Int32)
        /// Its supervisor is gone without a result (killed), but its QEMU still runs.
        case orphaned
        /// Nothing of it runs and it left no result: an entry to clean up.
        case stale

        public var label: String {
            switch self {
            case .running(let ready): return ready ? "running" : "booting"
            case .exited(let status): return "exited \(status)"
            case .orphaned: return "orphaned"
            case .stale: return "stale"
            }
        }

        public var isActive: Bool {
            switch self {
            case .running, .orphaned: return true
            case .exited, .stale: return false
            }
        }
    }

    public let directory: String
    public var name: String { (directory as NSString).lastPathComponent }

    public init(directory: String) { self.directory = directory }

    public var recordPath: String { directory + "/state.json" }
    public var resultPath: String { directory + "/result.json" }
    public var stopRequestPath: String { directory + "/stop-request.json" }
    public var consoleLogPath: String { directory + "/console.log" }
    public var stdoutPath: String { directory + "/stdout" }
    public var stderrPath: String { directory + "/stderr" }
    public var supervisorLogPath: String { directory + "/ksand.log" }
    public var qmpSocketPath: String { directory + "/" + PreparedSandbox.qmpSocketName }

    /// The record; nil when there is none yet or it is not one.
    public var record: Record? {
        FileManager.default.contents(atPath: recordPath).flatMap { JSONDocument.decode(Record.self, from: $0) }
    }

    public func write(_ record: Record) throws(SandboxError) {
        try DetachedSandbox.writeAtomically(try? JSONDocument.compact(record), to: recordPath)
    }

    /// The result document the supervisor wrote when the sandbox ended; nil when there is none or it is not one.
    public var result: SandboxResult.Document? {
        FileManager.default.contents(atPath: resultPath).flatMap { JSONDocument.decode(SandboxResult.Document.self, from: $0) }
    }

    public func writeResult(_ data: Data) throws(SandboxError) {
        try DetachedSandbox.writeAtomically(data, to: resultPath)
    }

    public var state: State { state(record: record) }

    /// The state, given the record as the caller read it (once, for the state and what it shows).
    public func state(record: Record?) -> State {
        // The result comes first: a supervisor that wrote it is about to exit.
        if let status = result?.exitStatus { return .exited(status: status) }
        guard let record else {
            // Being created right now (the record follows the directory within milliseconds) or left half-made.
            let age = (try? FileManager.default.attributesOfItem(atPath: directory)[.modificationDate] as? Date)
                .map { Date().timeIntervalSince($0) } ?? .infinity
            return age < 10 ? .running(ready: false) : .stale
        }
        if record.supervisor.isAlive { return .running(ready: record.ready) }
        if let qemu = record.qemu, qemu.isAlive { return .orphaned }
        return .stale
    }

    /// The stop policy `ksand stop` asks the supervisor to use, handed over before it is signalled. Read back, both
    /// times must be positive and at most ``DurationLimit/longestSeconds``, as `ksand stop` checks them: the file is
    /// outside input.
    public struct StopRequest: Codable, Equatable, Sendable {
        public var stallWindowSeconds: Double
        public var maxWaitSeconds: Double

        public init(stallWindowSeconds: Double, maxWaitSeconds: Double) {
            self.stallWindowSeconds = stallWindowSeconds
            self.maxWaitSeconds = maxWaitSeconds
        }

        enum CodingKeys: String, CodingKey {
            case stallWindowSeconds, maxWaitSeconds
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func seconds(_ key: CodingKeys) throws -> Double {
                let value = try container.decode(Double.self, forKey: key)
                guard DurationLimit.accepts(value) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: container,
                        debugDescription: "\(value) is not a time of more than 0 and at most \(DurationLimit.longestSeconds) seconds")
                }
                return value
            }
            self.init(stallWindowSeconds: try seconds(.stallWindowSeconds), maxWaitSeconds: try seconds(.maxWaitSeconds))
        }
    }

    public var stopRequest: StopRequest? {
        FileManager.default.contents(atPath: stopRequestPath).flatMap { JSONDocument.decode(StopRequest.self, from: $0) }
    }

    public func write(_ request: StopRequest) throws(SandboxError) {
        try DetachedSandbox.writeAtomically(try? JSONDocument.compact(request), to: stopRequestPath)
    }

    /// Whether the guest reached its power-off: the init's marker is near the end of the console log (only its
    /// last 64 KiB are read: a log can be as large as its limit).
    public var consoleShowsPowerOff: Bool {
        let text = consoleTail
        return text.contains("reboot: Power down") || text.contains(GuestMarker.powerOff.line())
    }

    /// Whether the kernel halted instead of powering off (`reboot: System halted`: no ACPI, or `acpi=off`).
    public var consoleShowsHalt: Bool { consoleTail.contains("reboot: System halted") }

    /// The console log's last 64 KiB, where the end of a shutdown is.
    private var consoleTail: String {
        guard let handle = FileHandle(forReadingAtPath: consoleLogPath) else { return "" }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd() else { return "" }
        try? handle.seek(toOffset: end > 65536 ? end - 65536 : 0)
        guard let data = try? handle.readToEnd() else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func writeAtomically(_ data: Data?, to path: String) throws(SandboxError) {
        guard let data else { throw .io(what: "cannot encode", path: path, errno: EINVAL) }
        try AtomicFile.write(data, to: path)
    }
}
