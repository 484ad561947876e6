import Dispatch
import Foundation

/// Turns SIGINT, SIGTERM and SIGHUP into a call, so ksand can stop its VM cleanly instead of dying with it.
/// The first signal asks for a clean stop; a second one of the same kind is handled the same way (the stop is
/// already progressing), so QEMU is never orphaned.
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private(set) var received: Int32?

    init(_ signals: [Int32] = SignalTrap.trapped, handler: @escaping @Sendable (Int32) -> Void) {
        for signal in signals {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { [weak self] in
                self?.received = signal
                handler(signal)
            }
            source.resume()
            sources.append(source)
        }
        // A closed stdout (`ksand run … | head -1`) must not kill ksand before QEMU is stopped.
        Foundation.signal(SIGPIPE, SIG_IGN)
    }

    deinit { sources.forEach { $0.cancel() } }

    static let trapped = [SIGINT, SIGTERM, SIGHUP]

    /// Unblocks the trapped signals in the calling thread (call it on the main thread, first thing).
    static func unblockTrappedSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in trapped { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
