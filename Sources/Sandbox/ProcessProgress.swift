import Foundation

/// A sample of a process's I/O and CPU counters, from /proc/PID/io and /proc/PID/stat (or a VM's statistics).
public struct ProcessProgress: Equatable, Sendable, CustomStringConvertible {
    public var readChars: UInt64
    public var writtenChars: UInt64
    public var readBytes: UInt64
    public var writtenBytes: UInt64
    /// utime + stime, in clock ticks.
    public var cpuTicks: UInt64
    /// The process state letter from /proc/PID/stat (R, S, D, Z, …).
    public var state: Character

    /// Whether any I/O counter differs from `earlier`. CPU time alone does not count as progress: a process
    /// spinning without I/O is not flushing anything.
    public func ioMoved(since earlier: ProcessProgress) -> Bool {
        readChars != earlier.readChars || writtenChars != earlier.writtenChars
            || readBytes != earlier.readBytes || writtenBytes != earlier.writtenBytes
    }

    /// Whether the process moved at least `floor` bytes through read/write calls since `earlier`, or any
    /// storage I/O happened. Below the floor is an event loop's own chatter (eventfd and timer reads).
    public func ioMoved(since earlier: ProcessProgress, atLeast floor: UInt64) -> Bool {
        let chars = (readChars &- earlier.readChars) &+ (writtenChars &- earlier.writtenChars)
        return chars >= max(floor, 1) || readBytes != earlier.readBytes || writtenBytes != earlier.writtenBytes
    }

    public var description: String {
        "rchar=\(readChars) wchar=\(writtenChars) read_bytes=\(readBytes) write_bytes=\(writtenBytes) cpu=\(cpuTicks)"
    }

    /// Counters from elsewhere than /proc (a libvirt domain's statistics), for the same stop rule.
    public init(readChars: UInt64, writtenChars: UInt64, readBytes: UInt64, writtenBytes: UInt64, cpuTicks: UInt64, state: Character = "R") {
        self.readChars = readChars
        self.writtenChars = writtenChars
        self.readBytes = readBytes
        self.writtenBytes = writtenBytes
        self.cpuTicks = cpuTicks
        self.state = state
    }

    /// Parses the two proc files' text. Nil if either is malformed.
    public init?(io: String, stat: String) {
        var fields: [Substring: UInt64] = [:]
        for line in io.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, let value = UInt64(parts[1].trimmingCharacters(in: .whitespaces)) { fields[parts[0]] = value }
        }
        // Fields 14 and 15 (utime, stime).
        guard let rest = ProcStat.fields(stat), rest.count > 12, let state = rest[0].first, let utime = UInt64(rest[11]), let stime = UInt64(rest[12]),
              let rchar = fields["rchar"], let wchar = fields["wchar"] else { return nil }
        self.readChars = rchar
        self.writtenChars = wchar
        self.readBytes = fields["read_bytes"] ?? 0
        self.writtenBytes = fields["write_bytes"] ?? 0
        self.cpuTicks = utime + stime
        self.state = state
    }

    /// Reads the counters of a live process; nil once it is gone or a zombie.
    public static func sample(pid: pid_t) -> ProcessProgress? {
        guard let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let progress = ProcessProgress(io: io, stat: stat), progress.state != "Z", progress.state != "X" else {
            return nil
        }
        return progress
    }
}
