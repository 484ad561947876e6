import Foundation

/// A process as the kernel knows it: its ID and its start time, so a record of it is not fooled by a new process
/// that got the same ID after it ended (or after a reboot).
public struct ProcessIdentity: Codable, Equatable, Sendable {
    public var pid: Int32
    /// Field 22 of /proc/PID/stat: clock ticks after boot when the process started.
    public var startTicks: UInt64

    public init(pid: Int32, startTicks: UInt64) {
        self.pid = pid
        self.startTicks = startTicks
    }

    /// The identity of a live process; nil once it is gone or a zombie.
    public static func of(_ pid: Int32) -> ProcessIdentity? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let parsed = parse(stat: stat), parsed.state != "Z", parsed.state != "X" else { return nil }
        return ProcessIdentity(pid: pid, startTicks: parsed.startTicks)
    }

    /// Whether this very process still runs.
    public var isAlive: Bool { ProcessIdentity.of(pid) == self }

    /// The state letter and start time from /proc/PID/stat's text.
    static func parse(stat: String) -> (state: Character, startTicks: UInt64)? {
        // Field 22 (starttime).
        guard let fields = ProcStat.fields(stat), fields.count > 19, let state = fields[0].first,
              let start = UInt64(fields[19]) else { return nil }
        return (state, start)
    }
}

/// /proc/PID/stat's fields from the third (the state letter) on. The command name in field 2 may hold spaces and
/// parentheses, so fields are counted after its last ')'.
enum ProcStat {
    static func fields(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }
}
