import Glibc
import SandboxProtocol

/// Runs the command's side of the channel in one poll loop until the command exits: stdin frames into its stdin
/// pipe, its stdout and stderr into frames, terminate requests and power-button presses into signals to its
/// process group.
///
/// Nothing in the loop blocks except a full port (backpressure towards the host). Stdin is written
/// non-blocking from a pending buffer; while that buffer is large the port is not read, so a command that does
/// not read its stdin cannot make the init buffer without bound.
struct CommandRelay {
    // A whole frame is 64 KiB: the port driver takes at most 32 KiB per write, so a frame is exactly two writes.
    private static let chunkSize = 64 * 1024 - Frame.headerSize
    private static let pendingStdinLimit = 4 << 20

    let port: PortChannel
    let command: RunningCommand
    let terminateGraceMilliseconds: UInt32
    let log: KernelLog
    private var powerButton: PowerButton

    private var stdinFD: Int32
    private var stdinPending: [UInt8] = []
    private var stdinPendingStart = 0
    private var stdinEOFRequested = false
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var readingPort = true
    private var terminating = false
    /// When the SIGKILL of a terminate request is due.
    private var killDeadline: Int64?
    /// A frame header and up to ``chunkSize`` bytes of output, handed to the port together.
    private var outputBuffer = [UInt8](repeating: 0, count: Frame.headerSize + CommandRelay.chunkSize)

    init(port: PortChannel, command: RunningCommand, powerButton: PowerButton, terminateGraceMilliseconds: UInt32, log: KernelLog) {
        self.port = port
        self.command = command
        self.powerButton = powerButton
        self.terminateGraceMilliseconds = terminateGraceMilliseconds
        self.log = log
        stdinFD = command.stdin
        stdoutFD = command.stdout
        stderrFD = command.stderr
    }

    /// Relays until the command has exited, drains what its pipes already hold, and returns how it ended.
    mutating func run() -> CommandExit {
        // Frames that arrived with the spec (stdin, even a terminate) come first.
        handleFrames()
        while true {
            if let status = reap() {
                stdoutFD = drain(stdoutFD, as: .stdout)
                stderrFD = drain(stderrFD, as: .stderr)
                return status
            }
            let stdinBacklog = stdinPending.count - stdinPendingStart
            let wantPort = readingPort && port.hostConnected && stdinBacklog < CommandRelay.pendingStdinLimit
            var fds = [
                pollfd(fd: wantPort ? port.fd : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stdinBacklog > 0 ? stdinFD : -1, events: Int16(POLLOUT), revents: 0),
                pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: command.pidfd, events: Int16(POLLIN), revents: 0),
            ] + powerButton.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            // Without a pidfd nothing wakes the loop when the command exits: look again every 10 ms.
            var timeout: Int32 = command.pidfd >= 0 ? -1 : 10
            if let killDeadline {
                let untilKill = Int32(clamping: max(0, killDeadline - Clock.milliseconds()))
                timeout = timeout < 0 ? untilKill : min(timeout, untilKill)
            }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                log.error("ksand-init: poll: \(errorText(errno))")
                continue
            }
            if let deadline = killDeadline, Clock.milliseconds() >= deadline {
                signalCommand(SIGKILL)
                killDeadline = nil
            }
            if fds[2].revents != 0 { stdoutFD = forwardOutput(stdoutFD, as: .stdout) }
            if fds[3].revents != 0 { stderrFD = forwardOutput(stderrFD, as: .stderr) }
            if fds[1].revents != 0 { flushStdin() }
            if fds[0].revents != 0 { readPort() }
            for button in fds.dropFirst(5) where button.revents != 0 {
                if powerButton.pressed(on: button.fd) { terminate(requestedBy: "power-button") }
            }
        }
    }

    /// The command's status once it has exited, else nil.
    private func reap() -> CommandExit? {
        var status: Int32 = 0
        let pid = waitpid(command.pid, &status, WNOHANG)
        guard pid == command.pid else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    private mutating func readPort() {
        do {
            if try !port.receive() {
                // The host is gone: nobody will read the output; stop the command as a terminate would.
                log.error("ksand-init: command channel closed by the host; terminating the command")
                readingPort = false
                terminate(requestedBy: "host-gone")
                return
            }
        } catch {
            log.error("ksand-init: \(error)")
            readingPort = false
            terminate(requestedBy: "channel-error")
            return
        }
        handleFrames()
    }

    private mutating func handleFrames() {
        while true {
            let frame: Frame
            do {
                guard let next = try port.nextFrame() else { return }
                frame = next
            } catch {
                log.error("ksand-init: \(error); terminating the command")
                readingPort = false
                terminate(requestedBy: "channel-error")
                return
            }
            switch frame.kind {
            case .stdin:
                if frame.payload.isEmpty {
                    stdinEOFRequested = true
                } else if stdinFD >= 0 {
                    // Drop what has been written already, so the buffer holds only the backlog.
                    if stdinPendingStart == stdinPending.count {
                        stdinPending.removeAll(keepingCapacity: true)
                        stdinPendingStart = 0
                    } else if stdinPendingStart > 1 << 20 {
                        stdinPending.removeFirst(stdinPendingStart)
                        stdinPendingStart = 0
                    }
                    stdinPending += frame.payload
                }
                flushStdin()
            case .terminate:
                terminate(requestedBy: "host-request")
            default:
                continue
            }
        }
    }

    /// Writes as much pending stdin as the pipe takes; closes it after end of file once everything is written.
    private mutating func flushStdin() {
        guard stdinFD >= 0 else {
            stdinPending.removeAll()
            stdinPendingStart = 0
            return
        }
        while stdinPendingStart < stdinPending.count {
            let n = stdinPending.withUnsafeBytes {
                write(stdinFD, $0.baseAddress! + stdinPendingStart, stdinPending.count - stdinPendingStart)
            }
            if n > 0 {
                stdinPendingStart += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                return
            } else {
                // EPIPE: the command closed its stdin or is gone; the rest has no reader.
                closeStdin()
                return
            }
        }
        if stdinEOFRequested { closeStdin() }
    }

    private mutating func closeStdin() {
        if stdinFD >= 0 { close(stdinFD) }
        stdinFD = -1
        stdinPending.removeAll()
        stdinPendingStart = 0
    }

    /// Syncs what the command wrote so far, then SIGTERM to its process group now and SIGKILL after the grace
    /// period. (What is left outside the group is killed before power-off, see ``PowerOff``.)
    private mutating func terminate(requestedBy how: String) {
        guard !terminating else { return }
        terminating = true
        log.marker(.stopRequested, detail: how)
        sync()
        signalCommand(SIGTERM)
        killDeadline = Clock.milliseconds() + Int64(terminateGraceMilliseconds)
    }

    /// Signals the command's process group. Right after fork the child may not have made its own session yet: that
    /// group does not exist, so the child itself gets the signal (once: a handler must not see two SIGTERMs).
    private func signalCommand(_ signal: Int32) {
        if kill(-command.pid, signal) != 0 && errno == ESRCH { kill(command.pid, signal) }
    }

    /// What one pass over an output pipe found.
    private enum OutputPass {
        case sent, empty, endOfFile
    }

    /// What an output pipe holds, sent as one frame. Returns the descriptor, or -1 once closed at end of file.
    private mutating func forwardOutput(_ fd: Int32, as kind: Frame.Kind) -> Int32 {
        guard fd >= 0 else { return fd }
        if outputPass(fd, as: kind) == .endOfFile {
            close(fd)
            return -1
        }
        return fd
    }

    /// After the command has exited: what its pipe already holds, without waiting for a background process that
    /// may still have it open.
    private mutating func drain(_ fd: Int32, as kind: Frame.Kind) -> Int32 {
        guard fd >= 0 else { return fd }
        while outputPass(fd, as: kind) == .sent {}
        close(fd)
        return -1
    }

    private mutating func outputPass(_ fd: Int32, as kind: Frame.Kind) -> OutputPass {
        while true {
            let n = readChunk(fd)
            if n > 0 {
                sendChunk(n, as: kind)
                return .sent
            }
            if n == 0 { return .endOfFile }
            switch errno {
            case EINTR: continue
            case EAGAIN: return .empty
            default: return .endOfFile
            }
        }
    }

    private mutating func readChunk(_ fd: Int32) -> Int {
        outputBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + Frame.headerSize, CommandRelay.chunkSize) }
    }

    private mutating func sendChunk(_ count: Int, as kind: Frame.Kind) {
        let port = self.port
        outputBuffer.withUnsafeMutableBytes { buffer in
            let length = UInt32(count)
            buffer[0] = kind.rawValue
            buffer[1] = UInt8(truncatingIfNeeded: length)
            buffer[2] = UInt8(truncatingIfNeeded: length >> 8)
            buffer[3] = UInt8(truncatingIfNeeded: length >> 16)
            buffer[4] = UInt8(truncatingIfNeeded: length >> 24)
            _ = port.writeAll(buffer.baseAddress!, Frame.headerSize + count)
        }
    }
}
