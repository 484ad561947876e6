import BootTimeline
import Foundation

/// Collects the guest's serial console as QEMU writes it: splits lines, stamps each with the host's arrival
/// time, keeps them for the timeline, and copies them to a log file when one is asked for.
final class ConsoleRecorder: @unchecked Sendable {
    private let origin: ContinuousClock.Instant
    private let log: FileHandle?
    private let timestampLog: Bool
    private var partial: [UInt8] = []
    private(set) var lines: [ConsoleLine] = []
    private let lock = NSLock()

    init(origin: ContinuousClock.Instant, logPath: String?, timestampLog: Bool) throws(SandboxError) {
        self.origin = origin
        self.timestampLog = timestampLog
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
            var start = 0
            var kernelDone = false
            for (index, byte) in bytes.enumerated() where byte == 0x0a {
                partial.append(contentsOf: bytes[start...index])
                emit(partial, at: now)
                if BootEvent.recognise(lines[lines.count - 1].text) == .powerOff { kernelDone = true }
                partial.removeAll(keepingCapacity: true)
                start = index + 1
            }
            partial.append(contentsOf: bytes[start...])
            return kernelDone
        }
    }

    /// Flushes a last line without a newline (a console cut off mid-line).
    func finish() {
        lock.withLock {
            if !partial.isEmpty { emit(partial, at: (ContinuousClock.now - origin).seconds) }
            partial.removeAll()
            try? log?.close()
        }
    }

    var snapshot: [ConsoleLine] { lock.withLock { lines } }

    private func emit(_ raw: [UInt8], at seconds: Double) {
        lines.append(ConsoleLine(raw: raw, hostSeconds: seconds))
        guard let log else { return }
        if timestampLog { log.write(Data(String(format: "%10.6f ", seconds).utf8)) }
        log.write(Data(raw))
        if raw.last != 0x0a { log.write(Data([0x0a])) }
    }
}
