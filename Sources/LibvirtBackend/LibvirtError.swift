import CLibvirt
import Foundation

/// A failure reported by libvirt: what was being done, on which URI, libvirt's own error (code, domain, level,
/// message), and for the common cases what to do about it.
///
/// Every libvirt call that returns NULL or -1 becomes one of these, read from libvirt's thread-local last error right
/// after the call, on the same thread. libvirt's default habit of printing each error to stderr is turned off by
/// ``LibvirtEventLoop/start()``, so this value is the one report of it.
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the failure means for the caller, judged from libvirt's code, its message and the URI.
    public enum Kind: Sendable, Equatable {
        /// Nothing listens on the daemon's socket (`socket` as libvirt names it): libvirtd is not running.
        case daemonNotRunning(socket: String?)
        /// The daemon's socket or its access policy refused the caller.
        case permissionDenied(socket: String?)
        /// The URI's scheme names no libvirt driver at all (a typo: `qmeu:///system`).
        case unknownScheme(String)
        /// The scheme names a driver, but no such driver is installed or loadable here.
        case driverNotInstalled
        /// The URI does not parse, or lacks what its driver needs (`qemu:///embed` without an absolute `root`).
        case invalidURI
        /// This process already runs the embedded QEMU driver on another root (`openRoot`): libvirt runs one per
        /// process, on the first root opened, until the process exits.
        case embeddedDriverOnAnotherRoot(openRoot: String?)
        /// A domain failed to start; libvirt's message carries QEMU's own error text. `log` is QEMU's log file,
        /// when it is known where the driver keeps it.
        case domainFailedToStart(log: String?)
        /// The domain does not exist (any more: a transient domain vanishes when it stops).
        case noDomain
        /// Anything else: libvirt's message says it all.
        case other
    }

    /// libvirt's `virErrorLevel`.
    public enum Level: Sendable, Equatable {
        case none, warning, error
    }

    /// What ksand asked libvirt to do: "open a connection", "start domain 'web'", …
    public var operation: String
    /// The connection URI it was asked on.
    public var uri: String
    /// libvirt's `virErrorNumber` (`VIR_ERR_*`), 0 when libvirt set no error.
    public var code: Int32
    /// libvirt's `virErrorDomain` (`VIR_FROM_*`): the part of libvirt that raised it.
    public var errorDomain: Int32
    /// libvirt's `virErrorLevel` for it.
    public var level: Level
    /// libvirt's message, as it would have printed it.
    public var message: String
    /// The errno behind a system error (`VIR_ERR_SYSTEM_ERROR`), when libvirt gives one.
    public var systemErrno: Int32?
    /// What it means for the caller (see ``Kind``), which decides ``advice``.
    public var kind: Kind

    /// An error with the given parts; ``last(_:uri:starting:)`` builds the ones libvirt reports.
    public init(operation: String, uri: String, code: Int32 = 0, errorDomain: Int32 = 0, level: Level = .error,
                message: String, systemErrno: Int32? = nil, kind: Kind = .other) {
        self.operation = operation
        self.uri = uri
        self.code = code
        self.errorDomain = errorDomain
        self.level = level
        self.message = message
        self.systemErrno = systemErrno
        self.kind = kind
    }

    /// What the caller was doing, which decides how an error is read.
    enum Context {
        case connecting
        case startingDomain(log: String?)
        case general
    }

    /// The error libvirt recorded for this thread's last failed call, copied out (`virSaveLastError`) and freed.
    static func last(_ operation: String, uri: String, context: Context = .general) -> LibvirtError {
        guard let saved = virSaveLastError() else {
            return LibvirtError(operation: operation, uri: uri, message: "libvirt failed without saying why (out of memory?)")
        }
        defer { virFreeError(saved) }
        let raw = saved.pointee
        let level: Level = switch raw.level {
        case VIR_ERR_WARNING: .warning
        case VIR_ERR_ERROR: .error
        default: .none
        }
        var error = LibvirtError(
            operation: operation, uri: uri, code: raw.code, errorDomain: raw.domain, level: level,
            message: raw.message.map { String(cString: $0) } ?? "libvirt error \(raw.code) with no message",
            systemErrno: raw.code == Self.number(VIR_ERR_SYSTEM_ERROR) && raw.int1 > 0 ? raw.int1 : nil)
        error.kind = error.classify(context)
        return error
    }

    static func number(_ value: virErrorNumber) -> Int32 { Int32(bitPattern: value.rawValue) }

    /// Reads libvirt's code and message for the cases a user can fix.
    func classify(_ context: Context) -> Kind {
        let parsed = LibvirtURI(uri)
        if case .connecting = context {
            if parsed == nil || message.contains("Unable to parse URI") { return .invalidURI }
            if let parsed, !parsed.hasKnownDriver { return .unknownScheme(parsed.driver) }
        }
        switch code {
        case Self.number(VIR_ERR_NO_DOMAIN):
            return .noDomain
        case Self.number(VIR_ERR_AUTH_FAILED), Self.number(VIR_ERR_AUTH_CANCELLED), Self.number(VIR_ERR_AUTH_UNAVAILABLE),
             Self.number(VIR_ERR_ACCESS_DENIED):
            return .permissionDenied(socket: nil)
        case Self.number(VIR_ERR_NO_CONNECT) where message.contains("no connection driver"):
            return .driverNotInstalled
        case Self.number(VIR_ERR_SYSTEM_ERROR) where message.contains("Failed to connect socket"):
            let socket = Self.quoted(in: message)
            switch systemErrno {
            case ENOENT, ECONNREFUSED: return .daemonNotRunning(socket: socket)
            case EACCES, EPERM: return .permissionDenied(socket: socket)
            default: break
            }
        case Self.number(VIR_ERR_INTERNAL_ERROR) where message.contains("Cannot open embedded driver at path"):
            let opened = message.range(of: "already open with path ").flatMap { Self.quoted(in: String(message[$0.upperBound...])) }
            return .embeddedDriverOnAnotherRoot(openRoot: opened)
        case Self.number(VIR_ERR_INVALID_ARG), Self.number(VIR_ERR_CONFIG_UNSUPPORTED):
            if case .connecting = context { return .invalidURI }
        default:
            break
        }
        // QEMU's own failures ("qemu unexpectedly closed the monitor: qemu: could not open kernel file …") name it;
        // libvirt's refusals before QEMU runs ("Domain autodestroy not supported …") do not.
        if case .startingDomain(let log) = context, message.lowercased().contains("qemu") || message.contains("monitor") {
            return .domainFailedToStart(log: log)
        }
        return .other
    }

    /// The first '…'-quoted part of a libvirt message: the socket path in "Failed to connect socket to '…'".
    static func quoted(in message: String) -> String? {
        guard let open = message.firstIndex(of: "'") else { return nil }
        let rest = message[message.index(after: open)...]
        guard let close = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<close])
    }

    public var description: String {
        var text = "libvirt could not \(operation) on \(uri): \(message)"
        if let advice { text += " — " + advice }
        return text
    }

    /// What to do, for the kinds that have a fix.
    public var advice: String? {
        let embedded = "the embedded driver qemu:///embed?root=DIR, which needs no daemon"
        switch kind {
        case .daemonNotRunning(let socket):
            let usual = socket.map { $0.hasSuffix("/libvirt/libvirt-sock") || $0.hasSuffix("/libvirt/virtqemud-sock") } ?? true
            let who = usual ? "libvirtd is not running" : "nothing listens on \(socket ?? "the socket")"
            return "\(who): start it as root with `virtlogd -d; libvirtd -d` (or `systemctl start libvirtd`), "
                + "or use \(embedded)"
        case .permissionDenied(let socket):
            return "you may not use \(socket ?? "this libvirt daemon"): add your user to the libvirt group "
                + "(`adduser $USER libvirt`, then log in again), or use qemu:///session (your own unprivileged "
                + "daemon) or \(embedded)"
        case .unknownScheme(let scheme):
            return "'\(scheme)' is not a libvirt driver: use qemu:///system, qemu:///session or qemu:///embed?root=DIR"
        case .driverNotInstalled:
            return "libvirt has no driver for this URI here: install it with `apt-get install libvirt-daemon-system` "
                + "(the QEMU driver is libvirt-daemon-driver-qemu)"
        case .invalidURI:
            return "a libvirt URI looks like qemu:///system, qemu:///session or qemu:///embed?root=/absolute/dir"
        case .embeddedDriverOnAnotherRoot(let openRoot):
            let root = openRoot ?? "the first root it opened"
            return "libvirt runs one embedded QEMU driver per process, on the first root opened (\(root)), until the "
                + "process exits: connect to qemu:///embed?root=\(root) again, or use another process for another root"
        case .domainFailedToStart(let log):
            return "QEMU did not start the domain; libvirt's message above carries QEMU's own error"
                + (log.map { ", and QEMU's whole log is in \($0)" } ?? "")
        case .noDomain:
            return "no such domain here; a transient domain disappears as soon as it stops"
        case .other:
            return nil
        }
    }
}
