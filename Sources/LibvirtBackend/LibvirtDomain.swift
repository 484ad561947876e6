import CLibvirt
import Foundation

/// A libvirt domain (`virDomainPtr`), released with `virDomainFree` exactly once, when the last reference goes.
///
/// The handle names the domain; it does not keep it running. Once a transient domain stops, calls on it fail with
/// ``LibvirtError/Kind/noDomain``. libvirt domain handles are thread-safe, so this class is `Sendable`.
public final class LibvirtDomain: @unchecked Sendable {
    // Immutable after init; libvirt serializes use of the handle itself.
    let pointer: OpaquePointer
    /// The connection the domain was found on; kept open while this handle lives.
    public let connection: LibvirtConnection
    /// The domain's name, which libvirt fixes for its life.
    public let name: String
    /// The domain's UUID, as libvirt spells it (`virDomainGetUUIDString`).
    public let uuid: String

    /// Takes over a reference libvirt returned (from a create, a lookup or a listing).
    init(owning pointer: OpaquePointer, connection: LibvirtConnection) {
        self.pointer = pointer
        self.connection = connection
        self.name = virDomainGetName(pointer).map { String(cString: $0) } ?? ""
        self.uuid = Self.uuidString(pointer) ?? ""
    }

    /// `virDomainGetUUIDString` of a domain handle, nil if libvirt cannot say.
    static func uuidString(_ domain: OpaquePointer) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(VIR_UUID_STRING_BUFLEN)) { buffer in
            guard let base = buffer.baseAddress, virDomainGetUUIDString(domain, base) == 0 else { return nil }
            return String(cString: base)
        }
    }

    deinit {
        virDomainFree(pointer)
    }

    /// How ``shutdown(_:)`` asks the guest to power off (`virDomainShutdownFlags`'s flags). libvirt tries the given
    /// methods in an order of its own; none given means the hypervisor's default (ACPI for QEMU).
    public struct ShutdownMethods: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The ACPI power button: the guest kernel powers off if it has ACPI and something handles the event.
        public static let acpiPowerButton = ShutdownMethods(rawValue: VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue)
        /// `guest-shutdown` through the QEMU guest agent (needs a `org.qemu.guest_agent.0` channel).
        public static let guestAgent = ShutdownMethods(rawValue: VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue)
        /// initctl (containers).
        public static let initctl = ShutdownMethods(rawValue: VIR_DOMAIN_SHUTDOWN_INITCTL.rawValue)
        /// A signal to the guest's init (containers).
        public static let signal = ShutdownMethods(rawValue: VIR_DOMAIN_SHUTDOWN_SIGNAL.rawValue)
        /// Paravirtualized guest control (Xen).
        public static let paravirt = ShutdownMethods(rawValue: VIR_DOMAIN_SHUTDOWN_PARAVIRT.rawValue)
    }

    /// The domain's id while it runs (`virDomainGetID`), nil when it is not running.
    public var id: UInt32? {
        let id = virDomainGetID(pointer)
        return id == UInt32.max ? nil : id
    }

    /// The domain's state and why it is in it (`virDomainGetState`).
    public func state() throws(LibvirtError) -> LibvirtDomainState {
        var state: Int32 = 0
        var reason: Int32 = 0
        guard virDomainGetState(pointer, &state, &reason, 0) == 0 else { throw error("read the state of") }
        return LibvirtDomainState(state: state, reason: reason)
    }

    /// Whether the domain runs (`virDomainIsActive`); false once a transient domain is gone.
    public func isActive() throws(LibvirtError) -> Bool {
        switch virDomainIsActive(pointer) {
        case 1: return true
        case 0: return false
        default:
            let error = error("check the state of")
            if error.kind == .noDomain { return false }
            throw error
        }
    }

    /// Asks the guest to power off (`virDomainShutdownFlags`); returns once asked, not once it is off.
    public func shutdown(_ methods: ShutdownMethods = []) throws(LibvirtError) {
        guard virDomainShutdownFlags(pointer, methods.rawValue) == 0 else { throw error("shut down") }
    }

    /// Ends the domain's QEMU at once (`virDomainDestroy`): SIGTERM, then SIGKILL if it lingers.
    public func destroy() throws(LibvirtError) {
        guard virDomainDestroy(pointer) == 0 else { throw error("destroy") }
    }

    /// Ends the domain's QEMU (`virDomainDestroyFlags`). With `graceful`, libvirt sends SIGTERM only, so QEMU may
    /// flush its disks and exit on its own; it fails if QEMU does not exit in time, where the plain destroy escalates
    /// to SIGKILL.
    public func destroy(graceful: Bool) throws(LibvirtError) {
        let flags = graceful ? VIR_DOMAIN_DESTROY_GRACEFUL.rawValue : VIR_DOMAIN_DESTROY_DEFAULT.rawValue
        guard virDomainDestroyFlags(pointer, flags) == 0 else { throw error(graceful ? "destroy (gracefully)" : "destroy") }
    }

    /// Lets a domain started paused run (`virDomainResume`).
    public func resume() throws(LibvirtError) {
        guard virDomainResume(pointer) == 0 else { throw error("resume") }
    }

    /// The domain's XML (`virDomainGetXMLDesc`): as it runs, or with `inactive` as it would next boot.
    public func xml(inactive: Bool = false) throws(LibvirtError) -> String {
        let flags = inactive ? VIR_DOMAIN_XML_INACTIVE.rawValue : 0
        guard let text = virDomainGetXMLDesc(pointer, flags) else { throw error("read the XML of") }
        defer { free(text) }
        return String(cString: text)
    }

    /// The pid of the domain's QEMU, for a local QEMU driver; nil for other URIs, or when the domain does not run.
    ///
    /// libvirt writes it to `<name>.pid` in the driver's state directory (``LibvirtURI/qemuPidDirectory(environment:isRoot:)``).
    /// The pid counts only if that process is still this domain's QEMU (its command line names the guest), so a
    /// stale file or a reused pid gives nil.
    public var qemuPID: pid_t? {
        guard let directory = connection.parsedURI?.qemuPidDirectory() else { return nil }
        return Self.qemuPID(pidFile: "\(directory)/\(name).pid", domainName: name)
    }

    /// The pid in `pidFile` if the process with it runs QEMU for `domainName` (`-name guest=NAME,…`).
    static func qemuPID(pidFile: String, domainName: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              isQEMU(pid: pid, domainName: domainName) else { return nil }
        return pid
    }

    /// Whether process `pid` is QEMU running the domain `domainName`: libvirt starts it with `-name guest=NAME,…`.
    static func isQEMU(pid: pid_t, domainName: String) -> Bool {
        guard let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.contains { $0 == "guest=\(domainName)" || $0.hasPrefix("guest=\(domainName),") }
    }

    /// An error for a failed call on this domain, read from libvirt right after the call.
    func error(_ verb: String) -> LibvirtError {
        LibvirtError.last("\(verb) domain '\(name)'", uri: connection.uri)
    }
}
