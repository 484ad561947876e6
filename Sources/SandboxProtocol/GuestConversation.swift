/// The host's side of the command channel, as a pure state machine: bytes from the guest in, what they mean out.
///
/// The guest is not trusted, so the order of frames is checked as strictly as their bytes: the init says hello
/// once, then the command's output follows, then exactly one exit status or failure message, then nothing but
/// empty stdout frames (the filler the init flushes its channel with before it powers off). Anything else is a
/// ``FrameError`` that names what arrived, and the conversation is over.
public struct GuestConversation: Sendable {
    /// What a frame from the guest means to the host.
    public enum Event: Equatable, Sendable {
        /// The init is up and waits for the run spec.
        case hello(Hello)
        case stdout([UInt8])
        case stderr([UInt8])
        /// The command ended; nothing more comes.
        case exit(CommandExit)
        /// The init could not set the sandbox up (its message, UTF-8 as sent); nothing more comes.
        case failure([UInt8])
    }

    public enum Stage: Equatable, Sendable {
        /// Nothing but a failure message or the hello may come.
        case awaitingHello
        /// The spec is on its way; the command's output and then its end may come.
        case running
        /// The exit status or the failure message arrived.
        case ended
        /// A protocol error ended the conversation.
        case broken
    }

    public private(set) var stage: Stage = .awaitingHello
    private var decoder = FrameDecoder()

    /// Bytes received that do not complete a frame yet.
    public var pendingByteCount: Int { decoder.pendingByteCount }

    public init() {}

    /// The conversation with a guest restored from a snapshot: its hello was said (and answered later) in the boot
    /// the snapshot was made of, so the command's output may come at once; a hello now is a second one.
    public init(helloAlreadySaid: Bool) {
        if helloAlreadySaid { stage = .running }
    }

    /// Bytes received since the last call. Returns the events they complete, in order; throws on the first frame
    /// that breaks the protocol (the events before it are lost with it: a broken conversation is not acted on).
    public mutating func receive<C: Collection>(_ bytes: C) throws(FrameError) -> [Event] where C.Element == UInt8 {
        guard stage != .broken else { throw .unexpected("bytes after a protocol error") }
        decoder.append(bytes)
        var events: [Event] = []
        do {
            while let frame = try decoder.next() {
                if let event = try accept(frame) { events.append(event) }
            }
        } catch {
            stage = .broken
            throw error
        }
        return events
    }

    /// The guest closed the channel (or QEMU ended). An error when it cut a frame off halfway.
    public mutating func closed() throws(FrameError) {
        guard stage != .broken else { return }
        let pending = decoder.pendingByteCount
        if pending > 0 {
            stage = .broken
            throw .truncated("frame: the channel closed with \(pending) bytes of an unfinished frame")
        }
    }

    private mutating func accept(_ frame: Frame) throws(FrameError) -> Event? {
        switch (stage, frame.kind) {
        case (.running, .stdout) where frame.payload.isEmpty, (.ended, .stdout) where frame.payload.isEmpty:
            return nil
        case (.awaitingHello, .hello):
            stage = .running
            return .hello(try Hello(decoding: frame.payload))
        case (.awaitingHello, .failure), (.running, .failure):
            stage = .ended
            return .failure(frame.payload)
        case (.running, .stdout): return .stdout(frame.payload)
        case (.running, .stderr): return .stderr(frame.payload)
        case (.running, .exit):
            let exit = try CommandExit(decoding: frame.payload)
            stage = .ended
            return .exit(exit)
        case (.running, .hello): throw .unexpected("second hello")
        case (.ended, let kind): throw .unexpected("\(kind) frame after the command's end")
        case (_, .spec), (_, .stdin), (_, .terminate):
            throw .unexpected("\(frame.kind) frame from the guest (only the host sends it)")
        case (.awaitingHello, let kind): throw .unexpected("\(kind) frame before the hello")
        case (.broken, _): throw .unexpected("frame after a protocol error")
        }
    }
}
