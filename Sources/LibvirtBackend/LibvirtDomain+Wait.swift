/// How ``LibvirtDomain/waitUntilGone(timeout:)`` ended.
public enum LibvirtWaitOutcome: Sendable, Equatable {
    /// The domain stopped (or was undefined) while waited for; the event says how.
    case gone(LibvirtLifecycleEvent)
    /// It was not running when the wait began.
    case wasNotRunning
    /// The timeout passed first; the domain may still run.
    case timedOut
    /// The waiting task was cancelled first; the domain may still run.
    case cancelled

    /// Whether the domain is known not to run any more.
    public var isGone: Bool {
        switch self {
        case .gone, .wasNotRunning: true
        case .timedOut, .cancelled: false
        }
    }
}

extension LibvirtDomain {
    /// Waits, without polling, until the domain stops: subscribes to its lifecycle events first, then checks it still
    /// runs, so a stop between the two is not missed. Returns at the first `stopped` or `undefined` event, after
    /// `timeout` if one is given, or when the calling task is cancelled.
    public func waitUntilGone(timeout: Duration? = nil) async throws(LibvirtError) -> LibvirtWaitOutcome {
        let subscription = try connection.lifecycleEvents(for: self)
        defer { subscription.cancel() }
        guard try isActive() else { return .wasNotRunning }
        return await withTaskGroup(of: LibvirtWaitOutcome.self) { group in
            group.addTask {
                for await event in subscription where event.endsRun { return .gone(event) }
                return .cancelled
            }
            if let timeout {
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return .cancelled }
                    return .timedOut
                }
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            return first
        }
    }
}
