/// Everything the guest init needs to know to set the sandbox up and run the command.
///
/// The host sends it in a ``Frame/Kind/spec`` frame once the init says hello. The encoding is a list of
/// fields, each `tag` (1 byte), length (4 bytes, little endian) and value; repeated tags build lists, and a
/// tag the init does not know is skipped.
public struct RunSpec: Equatable, Sendable {
    /// A host directory passed through over virtio-9p and mounted at the same path in the guest.
    public struct Share: Equatable, Sendable {
        /// The 9p mount tag QEMU exports it under.
        public var tag: String
        /// The absolute path, on the host and in the guest.
        public var path: String
        /// Whether the guest may write to it.
        public var writable: Bool

        public init(tag: String, path: String, writable: Bool) {
            self.tag = tag
            self.path = path
            self.writable = writable
        }
    }

    /// The 9p mount tag of the host's root filesystem.
    public static let rootTag = "ksand-root"

    /// The command and its arguments; `argv[0]` is looked up in `PATH` from ``environment`` unless it has a slash.
    public var argv: [String]
    /// The command's whole environment, as `KEY=VALUE` strings.
    public var environment: [String]
    /// The command's working directory.
    public var workingDirectory: String
    public var uid: UInt32
    public var gid: UInt32
    public var supplementaryGroups: [UInt32]
    /// Directories that get a tmpfs-backed overlay over the read-only host directory.
    public var overlays: [String]
    /// Directories that get an empty tmpfs.
    public var tmpfs: [String]
    /// Extra host directories shared over 9p (the `--rw` ones).
    public var shares: [Share]
    /// The 9p `msize` in bytes.
    public var msize: UInt32
    /// Whether the host forwards its stdin; if not, the command reads /dev/null.
    public var forwardsStdin: Bool
    /// On a terminate request: how long the command's process group has between SIGTERM and SIGKILL.
    public var terminateGraceMilliseconds: UInt32
    /// The guest's host name.
    public var hostname: String
    /// The host's wall clock when it sent the spec, in nanoseconds since the epoch: the init sets the guest's clock
    /// to it (a guest restored from a snapshot would otherwise live at the time the snapshot was made).
    public var wallClockNanoseconds: UInt64?
    /// Random bytes from the host that the init mixes into the guest's entropy pool and reseeds its RNG with, so
    /// that guests restored from one snapshot do not draw the same random numbers.
    public var entropy: [UInt8]
    /// The IPv4 address and prefix of the guest's network interface (`10.0.2.15/24`); nil: the guest has only its
    /// loopback (which the init always brings up).
    public var networkAddress: String?
    /// The default route's gateway; nil: no route beyond the interface's own network.
    public var networkGateway: String?
    /// Name servers the init writes into the guest's /etc/resolv.conf (over the host's, which stays as it is).
    public var nameservers: [String]

    public init(
        argv: [String], environment: [String], workingDirectory: String, uid: UInt32, gid: UInt32,
        supplementaryGroups: [UInt32] = [], overlays: [String] = ["/tmp", "/home"], tmpfs: [String] = [],
        shares: [Share] = [], msize: UInt32 = 512 * 1024, forwardsStdin: Bool = true,
        terminateGraceMilliseconds: UInt32 = 2000, hostname: String = "ksand", wallClockNanoseconds: UInt64? = nil,
        entropy: [UInt8] = [], networkAddress: String? = nil, networkGateway: String? = nil, nameservers: [String] = []
    ) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
        self.overlays = overlays
        self.tmpfs = tmpfs
        self.shares = shares
        self.msize = msize
        self.forwardsStdin = forwardsStdin
        self.terminateGraceMilliseconds = terminateGraceMilliseconds
        self.hostname = hostname
        self.wallClockNanoseconds = wallClockNanoseconds
        self.entropy = entropy
        self.networkAddress = networkAddress
        self.networkGateway = networkGateway
        self.nameservers = nameservers
    }

    /// The most entropy bytes a spec carries (the init's pool takes them in one call).
    public static let entropyLimit = 512

    private enum Tag: UInt8 {
        case argv = 1, environment, workingDirectory, uid, gid, supplementaryGroup, overlay, tmpfs
        case shareTag, sharePath, shareWritable, msize, forwardsStdin, terminateGrace, hostname, wallClock, entropy
        case networkAddress, networkGateway, nameserver
    }

    /// The payload of a ``Frame/Kind/spec`` frame.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        func put(_ tag: Tag, _ value: [UInt8]) {
            out.append(tag.rawValue)
            appendUInt32(UInt32(value.count), to: &out)
            out.append(contentsOf: value)
        }
        func put(_ tag: Tag, _ value: String) { put(tag, Array(value.utf8)) }
        func put(_ tag: Tag, _ value: UInt32) {
            var bytes: [UInt8] = []
            appendUInt32(value, to: &bytes)
            put(tag, bytes)
        }
        for arg in argv { put(.argv, arg) }
        for variable in environment { put(.environment, variable) }
        put(.workingDirectory, workingDirectory)
        put(.uid, uid)
        put(.gid, gid)
        for group in supplementaryGroups { put(.supplementaryGroup, group) }
        for path in overlays { put(.overlay, path) }
        for path in tmpfs { put(.tmpfs, path) }
        for share in shares {
            // A share is three consecutive fields; the tag opens it.
            put(.shareTag, share.tag)
            put(.sharePath, share.path)
            put(.shareWritable, share.writable ? 1 : 0)
        }
        put(.msize, msize)
        put(.forwardsStdin, forwardsStdin ? 1 : 0)
        put(.terminateGrace, terminateGraceMilliseconds)
        put(.hostname, hostname)
        if let wallClockNanoseconds {
            var bytes: [UInt8] = []
            appendUInt32(UInt32(truncatingIfNeeded: wallClockNanoseconds), to: &bytes)
            appendUInt32(UInt32(truncatingIfNeeded: wallClockNanoseconds >> 32), to: &bytes)
            put(.wallClock, bytes)
        }
        if !entropy.isEmpty { put(.entropy, entropy) }
        if let networkAddress { put(.networkAddress, networkAddress) }
        if let networkGateway { put(.networkGateway, networkGateway) }
        for server in nameservers { put(.nameserver, server) }
        return out
    }

    /// Decodes a spec payload; fails on truncation or a spec that could not run (no argv).
    public init(decoding bytes: [UInt8]) throws(FrameError) {
        self.init(argv: [], environment: [], workingDirectory: "/", uid: 0, gid: 0, overlays: [])
        var index = 0
        while index < bytes.count {
            guard bytes.count - index >= 5 else { throw .truncated("spec field header at byte \(index)") }
            let rawTag = bytes[index]
            let length = Int(readUInt32(bytes, at: index + 1))
            let valueStart = index + 5
            guard bytes.count - valueStart >= length else { throw .truncated("spec field \(rawTag) at byte \(index)") }
            let value = Array(bytes[valueStart..<valueStart + length])
            index = valueStart + length
            guard let tag = Tag(rawValue: rawTag) else { continue }
            let text = String(decoding: value, as: UTF8.self)
            func number() throws(FrameError) -> UInt32 {
                guard value.count == 4 else { throw .truncated("spec field \(rawTag): \(value.count) of 4 bytes") }
                return readUInt32(value, at: 0)
            }
            switch tag {
            case .argv: argv.append(text)
            case .environment: environment.append(text)
            case .workingDirectory: workingDirectory = text
            case .uid: uid = try number()
            case .gid: gid = try number()
            case .supplementaryGroup: supplementaryGroups.append(try number())
            case .overlay: overlays.append(text)
            case .tmpfs: tmpfs.append(text)
            case .shareTag: shares.append(Share(tag: text, path: "", writable: false))
            case .sharePath:
                guard !shares.isEmpty else { throw .truncated("spec: share path before its tag") }
                shares[shares.count - 1].path = text
            case .shareWritable:
                guard !shares.isEmpty else { throw .truncated("spec: share mode before its tag") }
                shares[shares.count - 1].writable = try number() != 0
            case .msize: msize = try number()
            case .forwardsStdin: forwardsStdin = try number() != 0
            case .terminateGrace: terminateGraceMilliseconds = try number()
            case .hostname: hostname = text
            case .wallClock:
                guard value.count == 8 else { throw .truncated("spec field \(rawTag): \(value.count) of 8 bytes") }
                wallClockNanoseconds = UInt64(readUInt32(value, at: 0)) | UInt64(readUInt32(value, at: 4)) << 32
            case .entropy:
                guard value.count <= RunSpec.entropyLimit else {
                    throw .unexpected("spec: \(value.count) entropy bytes, more than \(RunSpec.entropyLimit)")
                }
                entropy = value
            case .networkAddress: networkAddress = text
            case .networkGateway: networkGateway = text
            case .nameserver: nameservers.append(text)
            }
        }
        guard !argv.isEmpty else { throw .truncated("spec: no command") }
    }
}

/// Lines the guest init writes to /dev/kmsg, so that they carry the kernel's own printk timestamps.
public enum GuestMarker: String, Sendable, CaseIterable {
    /// The init has started (first thing it does).
    case initStart = "init-start"
    /// The command has been executed.
    case commandStart = "command-start"
    /// The command has ended; the line goes on with ` status=N`.
    case commandExit = "command-exit"
    /// The init was asked to stop the command; the line goes on with how (`power-button` or `host-request`).
    case stopRequested = "stop-requested"
    /// The init is about to power the machine off.
    case powerOff = "power-off"
    /// The init has the run spec (on a start from a snapshot, the first thing the restored guest does).
    case specReceived = "spec-received"

    /// Every marker line starts with this.
    public static let prefix = "ksand: "

    /// The text written to /dev/kmsg for this marker.
    public func line(detail: String? = nil) -> String {
        GuestMarker.prefix + rawValue + (detail.map { " " + $0 } ?? "")
    }
}
