/// How the command inside the sandbox ended.
public enum CommandExit: Equatable, Sendable {
    /// It called exit with this status.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)

    /// The status a shell would report: the exit status, or 128 + the signal number.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): return code & 0xff
        case .signaled(let signal): return 128 + signal
        }
    }

    /// Payload of a ``Frame/Kind/exit`` frame: 1 byte (0 exited, 1 signaled) and the value (4 bytes, little endian).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case .exited(let code):
            bytes.append(0)
            appendUInt32(UInt32(bitPattern: code), to: &bytes)
        case .signaled(let signal):
            bytes.append(1)
            appendUInt32(UInt32(bitPattern: signal), to: &bytes)
        }
        return bytes
    }

    public init(decoding bytes: [UInt8]) throws(FrameError) {
        guard bytes.count == 5 else { throw .truncated("exit status (\(bytes.count) of 5 bytes)") }
        let value = Int32(bitPattern: readUInt32(bytes, at: 1))
        switch bytes[0] {
        case 0: self = .exited(value)
        case 1: self = .signaled(value)
        default: throw .truncated("exit status (kind \(bytes[0]))")
        }
    }
}
