import BootTimeline
import Foundation

/// Collects the guest's serial console as QEMU writes it: splits lines, stamps each with the host's arrival
/// time, keeps what ``ConsoleRetention`` keeps for the timeline, and streams the bytes to a log file when one is
/// asked for, up to a size limit.
///
/// Memory is bounded whatever the guest prints: a line is kept to ``ConsoleLine/maxBytes`` (the log file gets up
/// to ``maxLogLineBytes`` of it when lines are timestamped, and all of it otherwise), and the retention's limits.
final class ConsoleRecorder: @unchecked Sendable {
    /// The log file's default size limit.
    static let defaultLogLimit: UInt64 = 64 << 20
    /// With timestamps, how much of one line the log file gets (the rest is cut, with a note).
    static let maxLogLineBytes = 64 * 1024

    private let origin: ContinuousClock.Instant
    private let log: FileHandle?
    private let logPath: String?
    private let logLimit: UInt64
    private let timestampLog: Bool
    private var partial: [UInt8] = []
    /// Bytes of the current line beyond what `partial` holds.
    private var partialOverflow = 0
    private var retention: ConsoleRetention
    private var logWritten: UInt64 = 0
    private var logDropped: UInt64 = 0
    private let lock = NSLock()

    init(
        origin: ContinuousClock.Instant, logPath: String?, timestampLog: Bool, logLimit: UInt64 = ConsoleRecorder.defaultLogLimit,
        retention: ConsoleRetention.Limits = ConsoleRetention.Limits()
    ) throws(SandboxError) {
        self.origin = origin
        self.timestampLog = timestampLog
        self.logPath = logPath
        self.logLimit = logLimit
        self.retention = ConsoleRetention(limits: retention)
        if let logPath {
            guard FileManager.default.createFile(atPath: logPath, contents: nil),
                  let handle = FileHandle(forWritingAtPath: logPath) else {
                throw .io(what: "cannot write console log", path: logPath, errno: errno)
            }
            self.log = handle
        } else {
            self.log = nil
        }
    }

    /// Feeds bytes read from QEMU's stdout. Returns true when a line among them says the kernel is done (it
    /// powers off, halts or restarts): past that line the guest does nothing more.
    @discardableResult
    func consume(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let now = (ContinuousClock.now - origin).seconds
        return lock.withLock {
            if !timestampLog { writeLog(bytes) }
            var start = 0
            var kernelDone = false
            for (index, byte) in bytes.enumerated() where byte == 0x0a {
                appendPartial(bytes[start...index])
                if emitLine(at: now) == .powerOff { kernelDone = true }
                start = index + 1
            }
            appendPartial(bytes[start...])
            return kernelDone
        }
    }

    /// Flushes a last line without a newline (a console cut off mid-line), notes a cut log, and closes it.
    func finish() {
        lock.withLock {
            if !partial.isEmpty { emitLine(at: (ContinuousClock.now - origin).seconds) }
            if logDropped > 0, let log {
                try? log.write(contentsOf: Data("\n[ksand: the console log stopped at its limit of \(logLimit) bytes; \(logDropped) more bytes were not written (--console-log-limit)]\n".utf8))
            }
            try? log?.close()
        }
    }

    /// The lines kept for the timeline and reports, and how many lines arrived in all.
    var snapshot: (lines: [ConsoleLine], received: Int) { lock.withLock { (retention.lines, retention.received) } }

    private func appendPartial(_ bytes: Slice<UnsafeRawBufferPointer>) {
        let room = ConsoleRecorder.maxLogLineBytes - partial.count
        if bytes.count <= room {
            partial.append(contentsOf: bytes)
        } else {
            partial.append(contentsOf: bytes.prefix(room))
            partialOverflow += bytes.count - room
        }
    }

    @discardableResult
    private func emitLine(at seconds: Double) -> BootEvent? {
        let line = ConsoleLine(raw: partial, hostSeconds: seconds)
        let event = retention.append(line)
        if timestampLog {
            var record = Array(String(format: "%10.6f ", seconds).utf8) + partial
            if partialOverflow > 0 { record += Array(" [… \(partialOverflow) more bytes of this line]".utf8) }
            if record.last != 0x0a { record.append(0x0a) }
            record.withUnsafeBytes { writeLog($0) }
        }
        partial.removeAll(keepingCapacity: partial.count <= 4096)
        partialOverflow = 0
        return event
    }

    private func writeLog(_ bytes: UnsafeRawBufferPointer) {
        guard let log, !bytes.isEmpty else { return }
        let room = logLimit > logWritten ? Int(min(UInt64(Int.max), logLimit - logWritten)) : 0
        let count = min(room, bytes.count)
        // A full disk must not take the run down with it: what cannot be written counts as cut.
        if count > 0, (try? log.write(contentsOf: Data(bytes.prefix(count)))) != nil {
            logWritten += UInt64(count)
        } else {
            logWritten = logLimit
            logDropped += UInt64(count)
        }
        logDropped += UInt64(bytes.count - count)
    }
}
