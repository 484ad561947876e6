import Foundation
import KsandFoundation
import SandboxProtocol
import Synchronization

/// Where the command's standard streams come from and go to on the host.
public struct SandboxIO: Sendable {
    public var stdin: Int32?
    public var stdout: Int32
    public var stderr: Int32

    public init(stdin: Int32?, stdout: Int32, stderr: Int32) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }

    /// ksand's own stdin, stdout and stderr.
    public static let standard = SandboxIO(stdin: STDIN_FILENO, stdout: STDOUT_FILENO, stderr: STDERR_FILENO)
}

/// Runs the host end of the command channel on its own thread: sends the spec when the init says hello, forwards
/// stdin, writes the command's stdout and stderr byte-exact to the host's, and records its exit status.
///
/// Socket writes are non-blocking and queued, so the relay never waits on the guest while the guest waits on it.
final class ChannelRelay: Sendable {
    struct Outcome: Sendable {
        var exit: CommandExit?
        var failure: String?
        var protocolError: String?
        /// What the init said it can act on (nil before its hello).
        var hello: Hello?
        var sawHello: Bool { hello != nil }
        /// Host seconds (since spawn) when the exit frame arrived.
        var exitHostSeconds: Double?
    }

    private let socketFD: Int32
    private let spec: RunSpec
    private let io: SandboxIO
    private let clockOrigin: ContinuousClock.Instant
    private let wake: [Int32]
    private struct State {
        var outcome = Outcome()
        var pendingTerminate = false
        var stopRequested = false
        var specReleased = false
        var loopEnded = false
    }
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)
    private let onExit: (@Sendable () -> Void)?
    /// Called on the relay thread when the init's hello arrives.
    private let onHello: (@Sendable (Bool) -> Void)?
    /// Called on the relay thread when the init reports that it failed (it powers off next).
    private let onFailure: (@Sendable () -> Void)?
    /// Called on the relay thread when the guest breaks the channel's protocol, with the error. The relay stops
    /// reading; the runner stops the VM.
    private let onProtocolError: (@Sendable (String) -> Void)?
    /// For a guest restored from a snapshot: the hello it said before the snapshot was saved. The spec then waits
    /// for ``releaseSpec()``, once the machine runs again.
    private let restoredHello: Hello?

    init(
        socketFD: Int32, spec: RunSpec, io: SandboxIO, clockOrigin: ContinuousClock.Instant, restoredHello: Hello? = nil,
        onHello: (@Sendable (Bool) -> Void)? = nil,
        onFailure: (@Sendable () -> Void)? = nil, onProtocolError: (@Sendable (String) -> Void)? = nil, onExit: (@Sendable () -> Void)?
    ) {
        self.socketFD = socketFD
        self.spec = spec
        self.io = io
        self.clockOrigin = clockOrigin
        self.onExit = onExit
        self.onHello = onHello
        self.onFailure = onFailure
        self.onProtocolError = onProtocolError
        self.restoredHello = restoredHello
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        self.wake = fds
        _ = fcntl(socketFD, F_SETFL, fcntl(socketFD, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(wake[0])
        close(wake[1])
        close(socketFD)
    }

    func start() {
        let thread = Thread { [self] in
            self.loop()
            self.state.withLock { $0.loopEnded = true }
            self.finished.signal()
        }
        thread.name = "ksand-channel"
        thread.start()
    }

    /// The outcome so far (complete once ``waitUntilFinished()`` returned).
    var current: Outcome { state.withLock { $0.outcome } }

    /// Whether the init has said hello, so that a terminate request can reach it.
    var guestListening: Bool { state.withLock { $0.outcome.sawHello } }

    /// Whether the init said it acts on the ACPI power button.
    var guestListensToPowerButton: Bool { state.withLock { $0.outcome.hello?.listensToPowerButton ?? false } }

    /// Whether the relay still reads and writes the channel (it stops at a protocol error or when QEMU closes it).
    var channelOpen: Bool { state.withLock { !$0.loopEnded && $0.outcome.protocolError == nil } }

    /// Asks the init to stop the command and power off.
    func requestTerminate() {
        state.withLock { $0.pendingTerminate = true }
        poke()
    }

    /// Sends the spec to a restored guest (it has loaded its snapshot and runs).
    func releaseSpec() {
        state.withLock { $0.specReleased = true }
        poke()
    }

    /// Ends the relay thread (after QEMU is gone).
    func stop() {
        state.withLock { $0.stopRequested = true }
        poke()
    }

    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.finished.wait()
                self.finished.signal()
                continuation.resume()
            }
        }
    }

    private func poke() {
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
    }

    private func loop() {
        var conversation = GuestConversation(helloAlreadySaid: restoredHello != nil)
        var outgoing: [UInt8] = []
        var outgoingStart = 0
        var specSent = false
        var stdinOpen = spec.forwardsStdin && io.stdin != nil
        var stdoutOpen = true, stderrOpen = true
        var readBuffer = [UInt8](repeating: 0, count: 256 * 1024)
        func queue(_ frame: Frame) {
            if outgoingStart == outgoing.count { outgoing.removeAll(keepingCapacity: true); outgoingStart = 0 }
            outgoing += frame.encoded()
        }
        func sendSpec() {
            queue(Frame(.spec, ChannelRelay.stamped(spec).encoded()))
            specSent = true
            if !stdinOpen && spec.forwardsStdin { queue(Frame(.stdin, [])) }
            if state.withLock({ $0.pendingTerminate }) { queue(Frame(.terminate)) }
        }
        // A restored guest's hello counts from the start; it is ready (onHello) once it runs and has its spec.
        if let restoredHello { record { $0.hello = restoredHello } }
        while true {
            let (terminate, stopping, released) = state.withLock { state -> (Bool, Bool, Bool) in
                defer { state.pendingTerminate = false }
                return (state.pendingTerminate, state.stopRequested, state.specReleased)
            }
            if stopping { return }
            if released && !specSent {
                sendSpec()
                if let restoredHello { onHello?(restoredHello.listensToPowerButton) }
            }
            if terminate && specSent { queue(Frame(.terminate)) }
            let wantStdin = stdinOpen && specSent && outgoing.count - outgoingStart < 1 << 20
            var polls = [
                pollfd(fd: socketFD, events: Int16(POLLIN) | (outgoingStart < outgoing.count ? Int16(POLLOUT) : 0), revents: 0),
                pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0),
                pollfd(fd: wantStdin ? io.stdin! : -1, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&polls, nfds_t(polls.count), -1) >= 0 else {
                if errno == EINTR { continue }
                record { $0.protocolError = "poll: \(errnoText(errno))" }
                return
            }
            if polls[1].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                _ = read(wake[0], &sink, sink.count)
            }
            if polls[0].revents & Int16(POLLOUT) != 0 {
                let n = outgoing.withUnsafeBytes { write(socketFD, $0.baseAddress! + outgoingStart, outgoing.count - outgoingStart) }
                if n > 0 { outgoingStart += n }
            }
            if polls[2].revents != 0 {
                let n = read(io.stdin!, &readBuffer, 64 * 1024)
                if n > 0 {
                    queue(Frame(.stdin, Array(readBuffer[0..<n])))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    queue(Frame(.stdin, []))
                    stdinOpen = false
                }
            }
            if polls[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = read(socketFD, &readBuffer, readBuffer.count)
                if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    // QEMU closed the channel: the guest is gone, but a frame it cut off is still its error.
                    do { try conversation.closed() } catch { brokeProtocol(error) }
                    return
                }
                if n < 0 { continue }
                let events: [GuestConversation.Event]
                do {
                    events = try conversation.receive(readBuffer[0..<n])
                } catch {
                    brokeProtocol(error)
                    return
                }
                for event in events {
                    switch event {
                    case .hello(let hello):
                        record { $0.hello = hello }
                        onHello?(hello.listensToPowerButton)
                        sendSpec()
                    case .stdout(let bytes): if stdoutOpen { stdoutOpen = writeAll(io.stdout, bytes) }
                    case .stderr(let bytes): if stderrOpen { stderrOpen = writeAll(io.stderr, bytes) }
                    case .exit(let status):
                        let seconds = (ContinuousClock.now - clockOrigin).seconds
                        record { $0.exit = status; $0.exitHostSeconds = seconds }
                        onExit?()
                    case .failure(let message):
                        record { $0.failure = PrintableText.line(message, limit: ChannelRelay.failureMessageLimit) }
                        onFailure?()
                    }
                }
            }
        }
    }

    /// `spec` as it leaves: the host's wall clock now and fresh random bytes, so that every guest (restored from a
    /// snapshot or not) has the right time and an RNG of its own.
    static func stamped(_ spec: RunSpec) -> RunSpec {
        var spec = spec
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        spec.wallClockNanoseconds = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        var generator = SystemRandomNumberGenerator()
        spec.entropy = (0..<64).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return spec
    }

    /// The most of an init's failure message that is kept (it is shown on a terminal and in reports).
    static let failureMessageLimit = 4096

    /// The guest broke the protocol: record it, tell the runner (which stops the VM), and stop reading.
    private func brokeProtocol(_ error: FrameError) {
        record { $0.protocolError = "\(error)" }
        onProtocolError?("\(error)")
    }

    private func record(_ change: (inout Outcome) -> Void) {
        state.withLock { change(&$0.outcome) }
    }

    /// Writes all bytes; false when the reader has gone (EPIPE), after which the stream is discarded.
    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 100)
            } else {
                return false
            }
        }
        return true
    }
}
