import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into a call, so ksand can stop its VM cleanly instead of dying with it.
/// The first signal asks for a clean stop; a second one of the same kind is handled the same way (the stop is
/// already progressing), so QEMU is never orphaned.
///
/// The dispatch signal sources are created once per process and never cancelled: libdispatch installs its own
/// handler for a signal the first time a source watches it and never reinstalls it, so cancelling a source and
/// setting the disposition again (for the next command phase) would leave the signal ignored. Traps only add and
/// remove handlers; while none is registered, a trapped signal is ignored.
final class SignalTrap: Sendable {
    private let token: Int

    init(handler: @escaping @Sendable (Int32) -> Void) {
        token = SignalTrap.register(handler)
    }

    deinit { SignalTrap.unregister(token) }

    static let trapped = [SIGINT, SIGTERM, SIGHUP]

    /// Unblocks the trapped signals in the calling thread (call it on the main thread, first thing).
    static func unblockTrappedSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in trapped { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static let registry = Mutex(Registry())

    private static func register(_ handler: @escaping @Sendable (Int32) -> Void) -> Int {
        registry.withLock { registry in
            if registry.sources.isEmpty { registry.sources = installSources() }
            registry.nextToken += 1
            registry.handlers[registry.nextToken] = handler
            return registry.nextToken
        }
    }

    private static func unregister(_ token: Int) {
        registry.withLock { $0.handlers[token] = nil }
    }

    /// Called with the registry locked, once.
    private static func installSources() -> [DispatchSourceSignal] {
        var sources: [DispatchSourceSignal] = []
        for signal in trapped {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { deliver(signal) }
            source.resume()
            sources.append(source)
        }
        // A closed stdout (`ksand run … | head -1`) must not kill ksand before QEMU is stopped.
        Foundation.signal(SIGPIPE, SIG_IGN)
        return sources
    }

    private static func deliver(_ signal: Int32) {
        let handlers = registry.withLock { Array($0.handlers.values) }
        for handler in handlers { handler(signal) }
    }

    private struct Registry {
        var sources: [DispatchSourceSignal] = []
        var handlers: [Int: @Sendable (Int32) -> Void] = [:]
        var nextToken = 0
    }
}
