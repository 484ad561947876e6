/// A stop report as it appears in ksand's JSON documents (`stop` in `ksand run --json` and a detached sandbox's
/// `result.json`; `ksand stop --pid --json`): `endedBy` (the step's name), `seconds`, `ioMovingWhenKilled`, `log`.
/// Read back, `seconds` is kept to the millisecond and must be a duration (finite, not negative, at most
/// ``maxSeconds``): a result file is outside input.
extension StopReport: Codable, Equatable {
    /// The longest stop a document may record: far beyond any stop policy (a week per step), small enough for
    /// milliseconds in an `Int`.
    public static let maxSeconds = 1e9

    enum CodingKeys: String, CodingKey {
        case endedBy, seconds, ioMovingWhenKilled, log
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let seconds = try container.decode(Double.self, forKey: .seconds)
        guard seconds >= 0 && seconds <= Self.maxSeconds else {
            throw DecodingError.dataCorruptedError(
                forKey: .seconds, in: container, debugDescription: "\(seconds) is not a duration of at most \(Self.maxSeconds) seconds")
        }
        self.init(
            endedBy: try container.decode(Step.self, forKey: .endedBy),
            ioMovingWhenKilled: try container.decodeIfPresent(Bool.self, forKey: .ioMovingWhenKilled) ?? false,
            duration: .milliseconds(Int((seconds * 1000).rounded())),
            log: try container.decodeIfPresent([String].self, forKey: .log) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(endedBy, forKey: .endedBy)
        try container.encode(duration.seconds, forKey: .seconds)
        try container.encode(ioMovingWhenKilled, forKey: .ioMovingWhenKilled)
        try container.encode(log, forKey: .log)
    }

    public static func == (left: StopReport, right: StopReport) -> Bool {
        left.endedBy == right.endedBy && left.ioMovingWhenKilled == right.ioMovingWhenKilled && left.duration == right.duration
            && left.log == right.log
    }
}

/// What `ksand stop --pid PID --json FILE` writes: the stop report's fields and the process's `pid`, in one object.
public struct ProcessStopReport: Codable, Equatable, Sendable {
    public var pid: Int32
    public var report: StopReport

    public init(pid: Int32, report: StopReport) {
        self.pid = pid
        self.report = report
    }

    enum CodingKeys: String, CodingKey {
        case pid
    }

    public init(from decoder: any Decoder) throws {
        pid = try decoder.container(keyedBy: CodingKeys.self).decode(Int32.self, forKey: .pid)
        report = try StopReport(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pid, forKey: .pid)
    }
}
