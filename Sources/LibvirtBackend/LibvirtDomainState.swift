/// A domain's state and the reason libvirt gives for it (`virDomainGetState`'s `virDomainState` and its
/// `virDomain*Reason`). Reasons libvirt adds later than 9.0 read as `.unknown`.
public enum LibvirtDomainState: Sendable, Equatable, CustomStringConvertible {
    case noState
    case running(RunningReason)
    /// Blocked on a resource (Xen; QEMU domains do not report it).
    case blocked
    case paused(PausedReason)
    /// The guest is shutting down.
    case shuttingDown
    case shutOff(ShutOffReason)
    /// Crashed; `panicked` when a pvpanic device reported a guest panic.
    case crashed(panicked: Bool)
    /// Suspended by the guest's own power management.
    case pmSuspended
    /// A state newer than libvirt 9.0.
    case unknown(state: Int32, reason: Int32)

    /// Why a domain runs (`virDomainRunningReason`).
    public enum RunningReason: Int32, Sendable {
        case unknown = 0, booted, migrated, restored, fromSnapshot, unpaused, migrationCanceled, saveCanceled, wakeup,
             crashed, postcopy, postcopyFailed
    }

    /// Why a domain is paused (`virDomainPausedReason`).
    public enum PausedReason: Int32, Sendable {
        case unknown = 0, user, migration, save, dump, ioError, watchdog, fromSnapshot, shuttingDown, snapshot, crashed,
             startingUp, postcopy, postcopyFailed, apiError
    }

    /// Why a domain is off (`virDomainShutoffReason`).
    public enum ShutOffReason: Int32, Sendable {
        case unknown = 0, shutdown, destroyed, crashed, migrated, saved, failed, fromSnapshot, daemon
    }

    /// Reads libvirt's pair of numbers.
    public init(state: Int32, reason: Int32) {
        switch state {
        case 0: self = .noState
        case 1: self = .running(RunningReason(rawValue: reason) ?? .unknown)
        case 2: self = .blocked
        case 3: self = .paused(PausedReason(rawValue: reason) ?? .unknown)
        case 4: self = .shuttingDown
        case 5: self = .shutOff(ShutOffReason(rawValue: reason) ?? .unknown)
        case 6: self = .crashed(panicked: reason == 1)
        case 7: self = .pmSuspended
        default: self = .unknown(state: state, reason: reason)
        }
    }

    /// Whether a QEMU process exists for the domain in this state (anything but off).
    public var hasProcess: Bool {
        switch self {
        case .shutOff, .noState: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .noState: "no state"
        case .running(let reason): "running (\(reason))"
        case .blocked: "blocked"
        case .paused(let reason): "paused (\(reason))"
        case .shuttingDown: "shutting down"
        case .shutOff(let reason): "shut off (\(reason))"
        case .crashed(let panicked): panicked ? "crashed (panicked)" : "crashed"
        case .pmSuspended: "suspended by the guest"
        case .unknown(let state, let reason): "state \(state) (reason \(reason))"
        }
    }
}
