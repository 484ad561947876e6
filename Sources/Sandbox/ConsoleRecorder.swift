import BootTimeline
import Foundation
import Synchronization

/// Collects the guest's serial console as QEMU writes it: splits lines, stamps each with the host's arrival
/// time, keeps what ``ConsoleRetention`` keeps for the timeline, and streams the bytes to a log file when one is
/// asked for, up to a size limit.
///
/// Memory is bounded whatever the guest prints: a line is kept to ``ConsoleLine/maxBytes`` (the log file gets up
/// to ``maxLogLineBytes`` of it when lines are timestamped, and all of it otherwise), and the retention's limits.
final class ConsoleRecorder: Sendable {
    /// The log file's default size limit.
    static let defaultLogLimit: UInt64 = 64 << 20
    /// With timestamps, how much of one line the log file gets (the rest is cut, with a note).
    static let maxLogLineBytes = 64 * 1024

    private let origin: ContinuousClock.Instant
    /// Written only with `state` locked, so that lines reach it whole and in order.
    private let log: FileHandle?
    private let logPath: String?
    private let logLimit: UInt64
    private let timestampLog: Bool
    private struct State {
        var partial: [UInt8] = []
        /// Bytes of the current line beyond what `partial` holds.
        var partialOverflow = 0
        var retention: ConsoleRetention
        var logWritten: UInt64 = 0
        var logDropped: UInt64 = 0
        /// The last power-off, halt or restart line the kernel printed.
        var kernelEndLine: String?
    }
    private let state: Mutex<State>

    init(
        origin: ContinuousClock.Instant, logPath: String?, timestampLog: Bool, logLimit: UInt64 = ConsoleRecorder.defaultLogLimit,
        retention: ConsoleRetention.Limits = ConsoleRetention.Limits()
    ) throws(SandboxError) {
        self.origin = origin
        self.timestampLog = timestampLog
        self.logPath = logPath
        self.logLimit = logLimit
        self.state = Mutex(State(retention: ConsoleRetention(limits: retention)))
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
        return state.withLock { state in
            if !timestampLog { writeLog(bytes, &state) }
            var start = 0
            var kernelDone = false
            for (index, byte) in bytes.enumerated() where byte == 0x0a {
                appendPartial(bytes[start...index], &state)
                if emitLine(at: now, &state) == .powerOff { kernelDone = true }
                start = index + 1
            }
            appendPartial(bytes[start...], &state)
            return kernelDone
        }
    }

    /// Flushes a last line without a newline (a console cut off mid-line), notes a cut log, and closes it.
    func finish() {
        state.withLock { state in
            if !state.partial.isEmpty { emitLine(at: (ContinuousClock.now - origin).seconds, &state) }
            if state.logDropped > 0, let log {
                try? log.write(contentsOf: Data("\n[ksand: the console log stopped at its limit of \(logLimit) bytes; \(state.logDropped) more bytes were not written (--console-log-limit)]\n".utf8))
            }
            try? log?.close()
        }
    }

    /// The lines kept for the timeline and reports, and how many lines arrived in all.
    var snapshot: (lines: [ConsoleLine], received: Int) { state.withLock { ($0.retention.lines, $0.retention.received) } }

    /// The last power-off, halt or restart line the kernel printed, as it was recognised on arrival.
    var kernelEndLine: String? { state.withLock { $0.kernelEndLine } }

    private func appendPartial(_ bytes: Slice<UnsafeRawBufferPointer>, _ state: inout State) {
        let room = ConsoleRecorder.maxLogLineBytes - state.partial.count
        if bytes.count <= room {
            state.partial.append(contentsOf: bytes)
        } else {
            state.partial.append(contentsOf: bytes.prefix(room))
            state.partialOverflow += bytes.count - room
        }
    }

    @discardableResult
    private func emitLine(at seconds: Double, _ state: inout State) -> BootEvent? {
        let line = ConsoleLine(raw: state.partial, hostSeconds: seconds)
        let event = state.retention.append(line)
        if event == .powerOff { state.kernelEndLine = line.text }
        if timestampLog {
            var record = Array(String(format: "%10.6f ", seconds).utf8) + state.partial
            if state.partialOverflow > 0 { record += Array(" [… \(state.partialOverflow) more bytes of this line]".utf8) }
            if record.last != 0x0a { record.append(0x0a) }
            record.withUnsafeBytes { writeLog($0, &state) }
        }
        state.partial.removeAll(keepingCapacity: state.partial.count <= 4096)
        state.partialOverflow = 0
        return event
    }

    private func writeLog(_ bytes: UnsafeRawBufferPointer, _ state: inout State) {
        guard let log, !bytes.isEmpty else { return }
        let room = logLimit > state.logWritten ? Int(min(UInt64(Int.max), logLimit - state.logWritten)) : 0
        let count = min(room, bytes.count)
        // A full disk must not take the run down with it: what cannot be written counts as cut.
        if count > 0, (try? log.write(contentsOf: Data(bytes.prefix(count)))) != nil {
            state.logWritten += UInt64(count)
        } else {
            state.logWritten = logLimit
            state.logDropped += UInt64(count)
        }
        state.logDropped += UInt64(bytes.count - count)
    }
}
