/// What the init says in its ``Frame/Kind/hello`` frame: the wire format's version and what it can act on.
public struct Hello: Equatable, Sendable {
    public var version: UInt8
    /// The init watches the ACPI power button, so a `system_powerdown` over QMP reaches it. Without it the host
    /// asks for a stop with a ``Frame/Kind/terminate`` frame.
    public var listensToPowerButton: Bool

    public init(version: UInt8 = Frame.protocolVersion, listensToPowerButton: Bool) {
        self.version = version
        self.listensToPowerButton = listensToPowerButton
    }

    private static let powerButtonFlag: UInt8 = 1

    /// The payload: the version byte, then a flags byte.
    public func encoded() -> [UInt8] {
        [version, listensToPowerButton ? Hello.powerButtonFlag : 0]
    }

    /// Decodes a hello payload; a version this host does not speak is an error naming both.
    public init(decoding bytes: [UInt8]) throws(FrameError) {
        guard let version = bytes.first else { throw .truncated("hello: no version") }
        guard version == Frame.protocolVersion else { throw .versionMismatch(guest: version, host: Frame.protocolVersion) }
        self.version = version
        listensToPowerButton = bytes.count > 1 && bytes[1] & Hello.powerButtonFlag != 0
    }
}
