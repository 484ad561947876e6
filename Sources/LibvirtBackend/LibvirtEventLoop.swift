import CLibvirt
import Foundation
import Synchronization

/// libvirt's default event loop, registered once per process and run on a thread of its own.
///
/// libvirt delivers domain lifecycle events, stream readiness and the remote driver's keepalives through the event
/// implementation the application registers, and the embedded QEMU driver (`qemu:///embed`) needs one registered
/// before its first connection is opened. ``start()`` does that the first time it is called: quiets libvirt's own
/// log unless the user configured it (see `quietLogging`), then `virInitialize`,
/// `virSetErrorFunc` with a handler that prints nothing (errors come back as ``LibvirtError`` values instead of
/// lines on stderr), `virEventRegisterDefaultImpl`, and a thread that calls `virEventRunDefaultImpl` for the rest of
/// the process's life. Every later call returns at once. ``LibvirtConnection`` calls it before it opens a URI, so
/// callers need not.
///
/// Callbacks registered with libvirt (lifecycle events, console data) run on that thread: they must not block.
public enum LibvirtEventLoop {
    private static let started = Mutex(false)

    /// Registers the default event implementation and starts the thread that runs it, unless already done.
    /// Safe to call from any thread, any number of times.
    public static func start() throws(LibvirtError) {
        try started.withLock { (isStarted: inout Bool) throws(LibvirtError) in
            guard !isStarted else { return }
            quietLogging()
            guard virInitialize() == 0 else {
                throw LibvirtError.last("initialize libvirt", uri: "(none)")
            }
            virSetErrorFunc(nil, ignoreError)
            guard virEventRegisterDefaultImpl() == 0 else {
                throw LibvirtError.last("register libvirt's default event loop", uri: "(none)")
            }
            let thread = Thread { runForever() }
            thread.name = "libvirt-events"
            thread.start()
            isStarted = true
        }
    }

    /// Whether ``start()`` has succeeded in this process.
    public static var isRunning: Bool { started.withLock { $0 } }

    /// libvirt's log writes warnings to stderr (the embedded driver writes two for every domain run as root:
    /// "security driver none disables default policy" and "tainted: high-privileges"). Unless the user asked for
    /// libvirt's logging (LIBVIRT_DEBUG, LIBVIRT_LOG_OUTPUTS, LIBVIRT_LOG_FILTERS), only errors are logged, which
    /// libvirt does not print without an explicit output; errors come back as ``LibvirtError`` instead.
    /// `virInitialize` reads the variable; nothing else in the process does.
    private static func quietLogging() {
        let variables: [String] = ["LIBVIRT_DEBUG", "LIBVIRT_LOG_OUTPUTS", "LIBVIRT_LOG_FILTERS"]
        let asked = variables.contains { getenv($0) != nil }
        if !asked { setenv("LIBVIRT_DEBUG", "4", 0) }
    }

    private static func runForever() -> Never {
        while true {
            if virEventRunDefaultImpl() != 0 {
                // Only a broken poll() gets here; do not spin on it.
                usleep(10_000)
            }
        }
    }
}

/// libvirt's error callback, set so that libvirt prints nothing itself; ``LibvirtError`` reads the error instead.
private func ignoreError(_: UnsafeMutableRawPointer?, _: virErrorPtr?) {}
