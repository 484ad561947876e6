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
        case .signaled(let signal): return 128 + min(max(signal, 0), 127)
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

    /// The values a process can end with: an exit status is one byte, a signal is 1 through SIGRTMAX (64).
    public static let exitStatusRange: ClosedRange<UInt32> = 0...255
    public static let signalRange: ClosedRange<UInt32> = 1...64

    /// Decodes an exit frame's payload. The guest is not trusted: a status or signal no process can end with is an
    /// error, so that nothing downstream (``shellStatus``, exit codes) sees a value it cannot represent.
    public init(decoding bytes: [UInt8]) throws(FrameError) {
        guard bytes.count == 5 else { throw .truncated("exit status (\(bytes.count) of 5 bytes)") }
        let value = readUInt32(bytes, at: 1)
        switch bytes[0] {
        case 0:
            guard CommandExit.exitStatusRange.contains(value) else { throw .outOfRange("exit status \(value) (a process exits with 0 to 255)") }
            self = .exited(Int32(value))
        case 1:
            guard CommandExit.signalRange.contains(value) else { throw .outOfRange("signal \(value) (signals are 1 to 64)") }
            self = .signaled(Int32(value))
        default: throw .outOfRange("exit kind \(bytes[0]) (0 is an exit status, 1 a signal)")
        }
    }
}
