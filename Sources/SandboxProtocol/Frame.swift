/// One message on the command channel between the host and the guest init.
///
/// On the wire a frame is `kind` (1 byte), the payload length (4 bytes, little endian), then the payload.
/// The channel is a single virtio-serial port named ``Frame/portName``; it carries the run spec and stdin
/// towards the guest, and the command's stdout, stderr and exit status back to the host.
public struct Frame: Equatable, Sendable {
    /// What a frame carries. Values below 0x10 travel from the guest to the host, the others the other way.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Guest → host: the init has its channel open and waits for the spec. Payload: an encoded ``Hello``.
        case hello = 0x01
        /// Guest → host: bytes the command wrote to its standard output.
        case stdout = 0x02
        /// Guest → host: bytes the command wrote to its standard error.
        case stderr = 0x03
        /// Guest → host: the command has ended. Payload: an encoded ``CommandExit``.
        case exit = 0x04
        /// Guest → host: the init could not set the sandbox up. Payload: UTF-8 message. The init powers off after it.
        case failure = 0x05
        /// Host → guest: what to run and how. Payload: an encoded ``RunSpec``.
        case spec = 0x10
        /// Host → guest: bytes for the command's standard input. An empty payload is end of file.
        case stdin = 0x11
        /// Host → guest: stop the command (sync, SIGTERM to its process group, grace period, SIGKILL) and power off.
        case terminate = 0x12
    }

    /// The name of the virtio-serial port the channel uses (`/sys/class/virtio-ports/*/name`).
    public static let portName = "org.ksand.ctl"
    /// The version of this wire format, sent in ``Kind/hello``.
    public static let protocolVersion: UInt8 = 1
    /// The largest payload a frame may carry; longer data is split.
    public static let maxPayload = 1 << 20
    /// The size of a frame's header.
    public static let headerSize = 5

    public var kind: Kind
    public var payload: [UInt8]

    public init(_ kind: Kind, _ payload: [UInt8] = []) {
        self.kind = kind
        self.payload = payload
    }

    /// The frame as bytes on the wire.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Frame.headerSize + payload.count)
        bytes.append(kind.rawValue)
        appendUInt32(UInt32(payload.count), to: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// A malformed byte stream on the command channel.
public enum FrameError: Error, Equatable, CustomStringConvertible {
    case unknownKind(UInt8)
    case payloadTooLarge(Int)
    case truncated(String)
    case versionMismatch(guest: UInt8, host: UInt8)
    /// A value no well-behaved init sends (an exit status over 255, signal 0x7fffffff).
    case outOfRange(String)
    /// A frame that is well-formed but not allowed at this point of the conversation (a second hello, stdout
    /// before the hello, a host-bound kind).
    case unexpected(String)

    public var description: String {
        switch self {
        case .unknownKind(let k): return "command channel: unknown frame kind 0x\(String(k, radix: 16))"
        case .payloadTooLarge(let n): return "command channel: frame payload of \(n) bytes exceeds \(Frame.maxPayload)"
        case .truncated(let what): return "command channel: truncated \(what)"
        case .outOfRange(let what): return "command channel: out-of-range \(what)"
        case .unexpected(let what): return "command channel: unexpected \(what)"
        case .versionMismatch(let guest, let host):
            return "command channel: the guest init speaks version \(guest), this ksand speaks \(host); rebuild the initramfs with this ksand (it is cached by content, so a stale one means a stale ksand-init binary)"
        }
    }
}

/// Reassembles frames from a byte stream that arrives in arbitrary pieces.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Adds bytes read from the channel.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(FrameError) -> Frame? {
        let available = buffer.count - start
        guard available >= Frame.headerSize else { return nil }
        guard let kind = Frame.Kind(rawValue: buffer[start]) else { throw .unknownKind(buffer[start]) }
        let length = Int(readUInt32(buffer, at: start + 1))
        guard length <= Frame.maxPayload else { throw .payloadTooLarge(length) }
        guard available >= Frame.headerSize + length else { return nil }
        let payloadStart = start + Frame.headerSize
        let payload = Array(buffer[payloadStart..<payloadStart + length])
        start = payloadStart + length
        return Frame(kind, payload)
    }

    /// Bytes received that do not yet form a whole frame.
    public var pendingByteCount: Int { buffer.count - start }
}

func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes.append(UInt8(truncatingIfNeeded: value))
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    bytes.append(UInt8(truncatingIfNeeded: value >> 16))
    bytes.append(UInt8(truncatingIfNeeded: value >> 24))
}

func readUInt32(_ bytes: [UInt8], at index: Int) -> UInt32 {
    UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
}
