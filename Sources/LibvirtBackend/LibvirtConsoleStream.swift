import CLibvirt
import Glibc
import Synchronization

/// A domain's serial console as bytes (`virStreamNew` + `virDomainOpenConsole` with `VIR_DOMAIN_CONSOLE_FORCE`),
/// handed over in ``chunks`` as each read returns them, so the caller can timestamp console lines as they arrive.
///
/// The stream is non-blocking and read from ``LibvirtEventLoop``'s thread when libvirt says it is readable
/// (`virStreamEventAddCallback`). A blocking `virStreamRecv` on a thread of its own would be simpler, but libvirt's
/// local stream holds the stream's lock across a blocking `read()` of the console's pty, so nothing could abort it
/// while the guest is quiet; with the event loop, ``close()`` works at any moment and no thread is spent per console.
///
/// ``chunks`` ends when the console does: at end of stream, when the domain goes away (its QEMU closes the pty),
/// on an error (see ``ending``), or after ``close()``. The stream is finished or aborted, and freed, exactly once
/// then. Bytes the consumer has not taken wait in a buffer of at most `bufferLimit` reads of up to 4 KiB; beyond that
/// the oldest are dropped and counted in ``droppedBytes``, since a guest may write faster than anyone reads.
///
/// Letting go of this object does not close the console (reading goes on until the domain ends, so a caller that
/// keeps only ``chunks`` loses nothing); cancelling the task that iterates ``chunks`` does.
public final class LibvirtConsoleStream: Sendable {
    /// How the console ended.
    public enum Ending: Sendable, Equatable {
        /// libvirt reported the end of the stream, or the pty hung up: the domain's QEMU is gone.
        case endOfStream
        /// ``LibvirtConsoleStream/close()`` was called.
        case closed
        /// Reading failed; for a console whose domain just stopped this is the usual way to end.
        case failed(LibvirtError)
    }

    /// The console's bytes, a chunk per read, in order.
    public let chunks: AsyncStream<[UInt8]>
    /// The domain whose console this is.
    public let domain: LibvirtDomain
    private let reader: ConsoleReader

    /// Opens the console of `domain` (its first console, taking it over from any other client).
    public init(domain: LibvirtDomain, bufferLimit: Int = 4096) throws(LibvirtError) {
        guard let stream = virStreamNew(domain.connection.pointer, VIR_STREAM_NONBLOCK.rawValue) else {
            throw domain.error("create a console stream for")
        }
        guard virDomainOpenConsole(domain.pointer, nil, stream, VIR_DOMAIN_CONSOLE_FORCE.rawValue) == 0 else {
            let error = domain.error("open the console of")
            virStreamFree(stream)
            throw error
        }
        let (chunks, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(max(bufferLimit, 1)))
        let reader = ConsoleReader(stream: stream, continuation: continuation, domainName: domain.name, uri: domain.connection.uri)
        continuation.onTermination = { termination in
            if case .cancelled = termination { reader.end(.closed, removeCallback: true) }
        }
        let opaque = Unmanaged.passRetained(reader).toOpaque()
        let events = VIR_STREAM_EVENT_READABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue | VIR_STREAM_EVENT_HANGUP.rawValue
        guard virStreamEventAddCallback(stream, Int32(events), consoleCallback, opaque, releaseConsoleReader) == 0 else {
            let error = domain.error("watch the console of")
            Unmanaged<ConsoleReader>.fromOpaque(opaque).release()
            reader.end(.failed(error), removeCallback: false)
            throw error
        }
        self.chunks = chunks
        self.domain = domain
        self.reader = reader
    }

    /// Stops reading and aborts the stream; ``chunks`` ends after what was already read. Later calls do nothing.
    public func close() {
        reader.end(.closed, removeCallback: true)
    }

    /// How the console ended, once it has.
    public var ending: Ending? { reader.ending }

    /// Bytes dropped because the consumer fell more than `bufferLimit` reads behind.
    public var droppedBytes: Int { reader.droppedBytes }
}

/// The stream and the consumer's continuation, shared by the event callback and ``LibvirtConsoleStream/close()``.
/// Every use of the stream happens with `state` locked, and whoever takes the stream out of it tears it down.
final class ConsoleReader: Sendable {
    struct StreamHandle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    struct State {
        var stream: StreamHandle?
        var ending: LibvirtConsoleStream.Ending?
        var droppedBytes = 0
    }

    static let chunkSize = 4096

    private let state: Mutex<State>
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let domainName: String
    private let uri: String

    init(stream: OpaquePointer, continuation: AsyncStream<[UInt8]>.Continuation, domainName: String, uri: String) {
        self.state = Mutex(State(stream: StreamHandle(pointer: stream)))
        self.continuation = continuation
        self.domainName = domainName
        self.uri = uri
    }

    var ending: LibvirtConsoleStream.Ending? { state.withLock { $0.ending } }
    var droppedBytes: Int { state.withLock { $0.droppedBytes } }

    /// Called by libvirt with the stream's events: reads all there is, then ends on end of stream, hang-up or error.
    func handle(events: Int32) {
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        let hungUp = events & Int32(VIR_STREAM_EVENT_HANGUP.rawValue | VIR_STREAM_EVENT_ERROR.rawValue) != 0
        let ending: LibvirtConsoleStream.Ending? = state.withLock { state in
            guard let stream = state.stream?.pointer else { return nil }
            while true {
                let count = buffer.withUnsafeMutableBytes { raw in
                    virStreamRecv(stream, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
                }
                if count > 0 {
                    if case .dropped(let chunk) = continuation.yield(Array(buffer[0..<Int(count)])) {
                        state.droppedBytes += chunk.count
                    }
                    continue
                }
                if count == 0 { return .endOfStream }
                if count == -2 { break }
                let error = LibvirtError.last("read the console of domain '\(domainName)'", uri: uri)
                // A pty whose other end (QEMU) has closed reads as EIO: that is the console's end, not a fault.
                return hungUp || error.systemErrno == EIO ? .endOfStream : .failed(error)
            }
            return hungUp ? .endOfStream : nil
        }
        if let ending { end(ending, removeCallback: true) }
    }

    /// Takes the stream out (once), then removes the callback, finishes it (at end of stream) or aborts it, frees it,
    /// and ends ``LibvirtConsoleStream/chunks``.
    func end(_ ending: LibvirtConsoleStream.Ending, removeCallback: Bool) {
        let taken = state.withLock { (state: inout State) -> StreamHandle? in
            guard let stream = state.stream else { return nil }
            state.stream = nil
            state.ending = ending
            return stream
        }
        guard let stream = taken?.pointer else { return }
        // Outside the lock: aborting may call the callback once more, which then finds no stream and returns.
        // Failures here concern a stream already closed by its other end; there is nothing left to release.
        if removeCallback { _ = virStreamEventRemoveCallback(stream) }
        if ending == .endOfStream {
            if virStreamFinish(stream) != 0 { _ = virStreamAbort(stream) }
        } else {
            _ = virStreamAbort(stream)
        }
        virStreamFree(stream)
        continuation.finish()
    }
}

/// `virStreamEventCallback`, on the event loop's thread (or inside an abort).
private func consoleCallback(_: OpaquePointer?, _ events: Int32, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    Unmanaged<ConsoleReader>.fromOpaque(opaque).takeUnretainedValue().handle(events: events)
}

/// `virFreeCallback` for the reader: libvirt has removed the callback.
private func releaseConsoleReader(_ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    Unmanaged<ConsoleReader>.fromOpaque(opaque).release()
}
