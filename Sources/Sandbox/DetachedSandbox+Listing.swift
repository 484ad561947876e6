extension DetachedSandbox {
    /// One sandbox as `ksand ps --json` lists it (an array of these): its `name`, `state` (the label `ksand ps`
    /// shows: `running`, `booting`, `exited N`, `orphaned`), state `directory`, `exitStatus` once it exited, and from
    /// its record, when it has one, `command`, `startedAt` (seconds since 1970), `supervisorPid`, and `qemuPid`,
    /// `machine` and `accelerator` once known, and the `backend` (with `connectURI` and `domainUUID` for libvirt).
    public struct Listing: Codable, Equatable, Sendable {
        public var name: String
        public var state: String
        public var directory: String
        public var exitStatus: Int32?
        public var command: [String]?
        public var startedAt: Double?
        public var supervisorPid: Int32?
        public var qemuPid: Int32?
        public var machine: String?
        public var accelerator: String?
        public var backend: String?
        public var connectURI: String?
        public var domainUUID: String?
        /// Published ports as `127.0.0.1:18080->8000/tcp`.
        public var published: [String]?
        public var outboundNetwork: Bool?

        public init(name: String, state: String, directory: String, exitStatus: Int32? = nil, command: [String]? = nil,
                    startedAt: Double? = nil, supervisorPid: Int32? = nil, qemuPid: Int32? = nil, machine: String? = nil,
                    accelerator: String? = nil, backend: String? = nil, connectURI: String? = nil, domainUUID: String? = nil) {
            self.name = name
            self.state = state
            self.directory = directory
            self.exitStatus = exitStatus
            self.command = command
            self.startedAt = startedAt
            self.supervisorPid = supervisorPid
            self.qemuPid = qemuPid
            self.machine = machine
            self.accelerator = accelerator
            self.backend = backend
            self.connectURI = connectURI
            self.domainUUID = domainUUID
        }

        /// The listing of `sandbox` in `state`, with what its `record` says.
        public init(_ sandbox: DetachedSandbox, state: State, record: Record?) {
            var exitStatus: Int32?
            if case .exited(let status) = state { exitStatus = status }
            self.init(name: sandbox.name, state: state.label, directory: sandbox.directory, exitStatus: exitStatus,
                      command: record?.command, startedAt: record?.startedAt, supervisorPid: record?.supervisor.pid,
                      qemuPid: record?.qemu?.pid, machine: record?.machine, accelerator: record?.accelerator,
                      backend: record.map { $0.backend ?? "qemu" }, connectURI: record?.connectURI, domainUUID: record?.domainUUID)
            published = record?.published.flatMap { $0.isEmpty ? nil : $0.map(\.description) }
            outboundNetwork = record?.outboundNetwork
        }
    }
}
