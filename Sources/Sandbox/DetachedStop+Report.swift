extension DetachedStop {
    /// What `ksand stop NAME… --json FILE` writes for each sandbox, in an array in the order named: its `name`, the
    /// `summary` it printed, `endedBy` (the reaper's step; absent when nothing had to be stopped), `seconds`,
    /// `ioMovingWhenKilled`, `guestPoweredOff`, `exitStatus` (absent when not known), the reaper's `log` and whether
    /// stopping it `failed`.
    public struct Report: Codable, Equatable, Sendable {
        public var name: String
        public var summary: String
        public var endedBy: StopReport.Step?
        public var seconds: Double
        public var ioMovingWhenKilled: Bool
        public var guestPoweredOff: Bool
        public var exitStatus: Int32?
        public var log: [String]
        public var failed: Bool

        public init(name: String, summary: String, endedBy: StopReport.Step?, seconds: Double, ioMovingWhenKilled: Bool,
                    guestPoweredOff: Bool, exitStatus: Int32?, log: [String], failed: Bool) {
            self.name = name
            self.summary = summary
            self.endedBy = endedBy
            self.seconds = seconds
            self.ioMovingWhenKilled = ioMovingWhenKilled
            self.guestPoweredOff = guestPoweredOff
            self.exitStatus = exitStatus
            self.log = log
            self.failed = failed
        }
    }
}

extension DetachedStop.Outcome {
    /// The outcome of stopping the sandbox `name`, as `ksand stop --json` reports it.
    public func report(name: String) -> DetachedStop.Report {
        DetachedStop.Report(name: name, summary: summary, endedBy: endedBy, seconds: seconds, ioMovingWhenKilled: ioMovingWhenKilled,
                            guestPoweredOff: guestPoweredOff, exitStatus: exitStatus, log: log, failed: failed)
    }
}
