import Glibc

/// The file locks the kernel lists in /proc/locks, parsed: who holds a lock on which file.
///
/// Each line is `ID: KIND ADVISORY|MANDATORY READ|WRITE PID MAJOR:MINOR:INODE START END`, with `-> ` after the ID for
/// a process waiting on the lock before it (fs/locks.c, `lock_get_status`); KIND is POSIX, FLOCK, OFDLCK, LEASE, …
/// Reading the table takes no lock and opens none of the files it names, so it can ask who holds a file without
/// disturbing a POSIX lock this process holds on it (closing any descriptor of a file drops them all).
struct FileLockTable: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var kind: String
        var pid: pid_t
        var deviceMajor: UInt32
        var deviceMinor: UInt32
        var inode: UInt64
    }

    /// The granted locks; waiters are left out.
    var entries: [Entry]

    /// Parses the table's text; a line not in the format above is skipped.
    init(parsing text: String) {
        entries = text.split(separator: "\n").compactMap(Self.entry)
    }

    init(entries: [Entry]) { self.entries = entries }

    /// The table as it is now (empty if /proc/locks cannot be read).
    static func current() -> FileLockTable {
        FileLockTable(parsing: (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? "")
    }

    private static func entry(_ line: Substring) -> Entry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[0].hasSuffix(":"), fields[1] != "->" else { return nil }
        let identity = fields[5].split(separator: ":")
        guard let pid = pid_t(fields[4]), identity.count == 3,
              let major = UInt32(identity[0], radix: 16), let minor = UInt32(identity[1], radix: 16),
              let inode = UInt64(identity[2]) else { return nil }
        return Entry(kind: String(fields[1]), pid: pid, deviceMajor: major, deviceMinor: minor, inode: inode)
    }

    /// The processes other than `excluding` holding a lock on the file at `path` (looked up with `stat`, which
    /// opens nothing), in table order without repeats; empty when the file does not exist.
    func holders(of path: String, excluding: pid_t = getpid()) -> [pid_t] {
        var status = stat()
        guard stat(path, &status) == 0 else { return [] }
        let device = UInt64(status.st_dev)
        // glibc's gnu_dev_major and gnu_dev_minor, which are macros Swift does not import.
        let major = UInt32(truncatingIfNeeded: ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff))
        let minor = UInt32(truncatingIfNeeded: (device & 0xff) | ((device >> 12) & ~0xff))
        var pids: [pid_t] = []
        for entry in entries where entry.inode == UInt64(status.st_ino) && entry.deviceMajor == major
            && entry.deviceMinor == minor && entry.pid != excluding && !pids.contains(entry.pid) {
            pids.append(entry.pid)
        }
        return pids
    }
}
