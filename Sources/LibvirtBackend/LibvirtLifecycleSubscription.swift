import CLibvirt
import Synchronization

/// Domain lifecycle events as they happen (`virConnectDomainEventRegisterAny` with `VIR_DOMAIN_EVENT_ID_LIFECYCLE`),
/// as an async sequence: a caller awaits a domain stopping instead of polling for it.
///
/// The registration lasts until ``cancel()``, or until the subscription and every iterator over it are gone: an
/// iterator keeps its subscription, so `for await event in try connection.lifecycleEvents(for: domain)` stays
/// subscribed for exactly as long as the loop runs. Events arrive through ``LibvirtEventLoop``'s thread; those
/// that happen before iteration begins wait in a buffer (the newest 256 are kept). Iteration ends when the
/// subscription is cancelled or the iterating task is.
public final class LibvirtLifecycleSubscription: AsyncSequence, Sendable {
    public typealias Element = LibvirtLifecycleEvent
    public typealias Failure = Never

    /// The connection whose events these are.
    public let connection: LibvirtConnection
    private let stream: AsyncStream<LibvirtLifecycleEvent>
    private let continuation: AsyncStream<LibvirtLifecycleEvent>.Continuation
    /// libvirt's callback id until the subscription is cancelled.
    private let callbackID: Mutex<Int32?>

    /// Registers for the lifecycle events of `domain`, or of every domain of `connection` when nil.
    init(connection: LibvirtConnection, domain: LibvirtDomain?) throws(LibvirtError) {
        let (stream, continuation) = AsyncStream.makeStream(of: LibvirtLifecycleEvent.self, bufferingPolicy: .bufferingNewest(256))
        let sink = Unmanaged.passRetained(LifecycleSink(continuation)).toOpaque()
        let callback: virConnectDomainEventCallback = lifecycleCallback
        let id = virConnectDomainEventRegisterAny(
            connection.pointer, domain?.pointer, Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue),
            unsafeBitCast(callback, to: virConnectDomainEventGenericCallback.self), sink, releaseLifecycleSink)
        guard id >= 0 else {
            // libvirt calls the free callback only for a registration it made.
            Unmanaged<LifecycleSink>.fromOpaque(sink).release()
            continuation.finish()
            throw LibvirtError.last("subscribe to the lifecycle events of " + (domain.map { "domain '\($0.name)'" } ?? "all domains"),
                                    uri: connection.uri)
        }
        self.connection = connection
        self.stream = stream
        self.continuation = continuation
        self.callbackID = Mutex(id)
    }

    deinit {
        cancel()
    }

    /// Deregisters (`virConnectDomainEventDeregisterAny`) and ends iteration. Later calls do nothing.
    public func cancel() {
        let id = callbackID.withLock { (id: inout Int32?) -> Int32? in
            let taken = id
            id = nil
            return taken
        }
        guard let id else { return }
        // The only failure is a connection that is already broken, and then nothing is registered any more.
        _ = virConnectDomainEventDeregisterAny(connection.pointer, id)
        continuation.finish()
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(subscription: self, base: stream.makeAsyncIterator())
    }

    /// Iterates the events; holds the subscription, so it stays registered while iteration runs.
    public struct Iterator: AsyncIteratorProtocol {
        let subscription: LibvirtLifecycleSubscription
        var base: AsyncStream<LibvirtLifecycleEvent>.Iterator

        public mutating func next() async -> LibvirtLifecycleEvent? {
            await base.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> LibvirtLifecycleEvent? {
            await base.next(isolation: actor)
        }
    }
}

extension LibvirtConnection {
    /// Subscribes to lifecycle events: of `domain`, or of all this connection's domains when nil.
    public func lifecycleEvents(for domain: LibvirtDomain? = nil) throws(LibvirtError) -> LibvirtLifecycleSubscription {
        try LibvirtLifecycleSubscription(connection: self, domain: domain)
    }
}

/// What libvirt's callback writes to; libvirt holds one reference until it calls ``releaseLifecycleSink``.
private final class LifecycleSink {
    let continuation: AsyncStream<LibvirtLifecycleEvent>.Continuation
    init(_ continuation: AsyncStream<LibvirtLifecycleEvent>.Continuation) { self.continuation = continuation }
}

/// `virConnectDomainEventCallback`, on the event loop's thread: copies the event out and hands it over.
private func lifecycleCallback(_: OpaquePointer?, _ domain: OpaquePointer?, _ event: Int32, _ detail: Int32,
                               _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let opaque else { return 0 }
    let sink = Unmanaged<LifecycleSink>.fromOpaque(opaque).takeUnretainedValue()
    let name = domain.flatMap { virDomainGetName($0) }.map { String(cString: $0) } ?? ""
    let uuid = domain.flatMap { LibvirtDomain.uuidString($0) } ?? ""
    sink.continuation.yield(LibvirtLifecycleEvent(kind: .init(event), detail: detail, domainName: name, domainUUID: uuid))
    return 0
}

/// `virFreeCallback` for the sink: libvirt is done with it.
private func releaseLifecycleSink(_ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    Unmanaged<LifecycleSink>.fromOpaque(opaque).release()
}
