import ContentHash
import Foundation
import Glibc
import KsandFoundation
import QEMU
import SandboxProtocol
import Subprocess
import SystemPackage

/// Boots a prepared sandbox's machine until ksand's init has said hello and waits for its run spec — before it has
/// mounted anything, since QEMU refuses to migrate a guest with an attached 9p export — and saves it.
///
/// Guest RAM lives in a shared memory file from the start, so the guest's pages are already in the snapshot when
/// it is paused; the state file gets the rest (`migrate` with `x-ignore-shared`, streamed by QEMU to a socket ksand
/// reads, hashes and syncs to disk). No command runs in this boot: the guest is paused at the handshake and QEMU is
/// ended, so what a snapshot holds was made by the kernel and ksand's init alone.
struct SnapshotMaker {
    var sandbox: PreparedSandbox
    var key: SnapshotKey
    /// How long the boot may take to reach the hello.
    var bootTimeout: Duration = .seconds(60)
    /// Says when the run was asked to stop (Ctrl-C, `ksand stop`) meanwhile: the boot is then abandoned.
    var cancelled: @Sendable () -> Bool = { false }

    func make(into directory: String) async throws(SnapshotError) -> SnapshotRecord {
        let runDirectory: String
        do { runDirectory = try RuntimeDirectory.create() } catch { throw .cache("\(error)") }
        defer { RuntimeDirectory.remove(runDirectory) }
        let channel: ChannelListener, migration: ChannelListener
        do {
            channel = try ChannelListener(path: runDirectory + "/channel.sock")
            migration = try ChannelListener(path: runDirectory + "/migration.sock")
        } catch {
            throw .cache("\(error)")
        }
        let memoryPath = directory + "/" + SnapshotRecord.memoryFileName
        let statePath = directory + "/" + SnapshotRecord.stateFileName
        var line = sandbox.commandLine(runDirectory: runDirectory)
        line.memory = .file(path: memoryPath, shared: true)
        let qmp = QMPClient(socketPath: runDirectory + "/" + PreparedSandbox.qmpSocketName)
        let started = ContinuousClock.now
        let recorder: ConsoleRecorder
        do { recorder = try ConsoleRecorder(origin: started, logPath: nil, timestampLog: false) } catch { throw .cache("\(error)") }
        let argv = line.arguments
        let execution: ExecutionResult<Result<Saved, SnapshotError>, SequenceOutput, SequenceOutput>
        do {
            execution = try await Subprocess.run(
                .path(FilePath(argv[0])), arguments: Arguments(Array(argv.dropFirst())),
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                let pid = execution.processIdentifier.value
                // The console is read as a run reads it, so that a kernel that halts or panics before the hello ends
                // the wait at once.
                async let console: Void = {
                    do {
                        for try await chunk in execution.standardOutput { chunk.withUnsafeBytes { _ = recorder.consume($0) } }
                    } catch {}
                }()
                async let stderr = QEMUDirectBackend.collect(execution.standardError, limit: 64 * 1024)
                let saved: Result<Saved, SnapshotError>
                do throws(SnapshotError) {
                    saved = .success(try await save(
                        pid: pid, channel: channel, migration: migration, qmp: qmp, statePath: statePath, started: started,
                        guestEnded: { recorder.kernelEndLine }))
                } catch {
                    kill(pid, SIGKILL)
                    saved = .failure(error)
                }
                let (_, stderrText) = await (console, stderr)
                let tail = recorder.snapshot.lines.suffix(5).map(\.text)
                return saved.mapError { error in Self.explain(error, console: tail, stderr: stderrText) }
            }
        } catch {
            throw .boot("could not run \(argv[0]): \(error)")
        }
        let saved = try execution.closureResult.get()
        guard case .exited(0) = execution.terminationStatus else {
            throw .save("QEMU ended with \(execution.terminationStatus) after saving")
        }
        try Self.sync(memoryPath)
        guard let memory = SnapshotKey.File.of(memoryPath) else { throw .save("\(memoryPath) is missing after the save") }
        return SnapshotRecord(
            key: key, listensToPowerButton: saved.hello.listensToPowerButton, memoryBytes: SnapshotRecord.size(of: memoryPath),
            memoryIdentity: memory.identity, stateBytes: saved.stateBytes, stateSHA256: saved.stateSHA256, created: Date(),
            makingMilliseconds: Int((ContinuousClock.now - started).seconds * 1000), bootMilliseconds: saved.bootMilliseconds)
    }

    private struct Saved: Sendable {
        var hello: Hello
        var bootMilliseconds: Int
        var stateBytes: UInt64
        var stateSHA256: String
    }

    /// Waits for the hello, pauses the guest, streams its state to `statePath` and ends QEMU.
    private func save(
        pid: pid_t, channel: ChannelListener, migration: ChannelListener, qmp: QMPClient, statePath: String,
        started: ContinuousClock.Instant, guestEnded: @escaping @Sendable () -> String?
    ) async throws(SnapshotError) -> Saved {
        let timeout = bootTimeout
        let cancelled = self.cancelled
        // The channel stays connected until QEMU has ended: a guest that saw its host end close would carry that
        // into the snapshot.
        let (hello, channelFD) = try await Self.onThread { () throws(SnapshotError) -> (Hello, Int32) in
            guard let fd = channel.accept(timeout: timeout, cancelled: { cancelled() || ProcessProgress.sample(pid: pid) == nil }) else {
                throw cancelled() ? .interrupted : .boot("QEMU did not connect the command channel")
            }
            do throws(SnapshotError) {
                return (try Self.readHello(fd, deadline: started + timeout, cancelled: cancelled, guestEnded: guestEnded), fd)
            } catch {
                close(fd)
                throw error
            }
        }
        defer { close(channelFD) }
        let booted = Int((ContinuousClock.now - started).seconds * 1000)
        do {
            try qmp.execute("stop")
        } catch {
            throw .save("\(error)")
        }
        // The init must wait for its spec after the hello. Whatever it sent meanwhile would be lost with this boot,
        // and the restored guest would not send it again: such a guest is not snapshotted, it boots cold.
        let early = Self.pendingBytes(channelFD, settle: .milliseconds(20))
        if early > 0 {
            throw .boot("the init sent \(early) more bytes after its hello, before it had its spec")
        }
        async let stream = Self.onThreadResult { () throws(SnapshotError) -> (UInt64, String) in
            guard let fd = migration.accept(timeout: .seconds(30), cancelled: { ProcessProgress.sample(pid: pid) == nil }) else {
                throw .save("QEMU did not connect to the migration socket")
            }
            defer { close(fd) }
            return try Self.receive(fd, into: statePath)
        }
        do {
            try qmp.execute("migrate-set-capabilities", arguments: QEMUCommandLine.ignoreSharedMemoryCapability)
            try qmp.execute("migrate", arguments: ["uri": .string("unix:" + migration.path)])
        } catch {
            throw .save("\(error)")
        }
        let (bytes, digest) = try await stream.get()
        try waitForMigration(qmp)
        try? qmp.execute("quit")
        return Saved(hello: hello, bootMilliseconds: booted, stateBytes: bytes, stateSHA256: digest)
    }

    private func waitForMigration(_ qmp: QMPClient) throws(SnapshotError) {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let status: JSONValue
            do { status = try qmp.execute("query-migrate") } catch { throw .save("\(error)") }
            switch status["status"]?.string {
            case "completed": return
            case "failed", "cancelled":
                throw .save("QEMU's migration \(status["status"]?.string ?? ""): \(status["error-desc"]?.string ?? "no reason given")")
            default: usleep(2000)
            }
        }
        throw .save("the migration did not complete within 30 s")
    }

    /// Reads frames until the hello; a failure message or a closed channel is the boot's error.
    static func readHello(
        _ fd: Int32, deadline: ContinuousClock.Instant, cancelled: () -> Bool = { false }, guestEnded: () -> String? = { nil }
    ) throws(SnapshotError) -> Hello {
        var conversation = GuestConversation()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            if cancelled() { throw .interrupted }
            if let line = guestEnded() { throw .boot("the guest's kernel ended (\"\(line)\") before the init's hello") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .boot("the command channel closed before the init's hello") }
            let events: [GuestConversation.Event]
            do { events = try conversation.receive(buffer[0..<n]) } catch { throw .boot("command channel: \(error)") }
            for (index, event) in events.enumerated() {
                switch event {
                case .hello(let hello):
                    guard index == events.count - 1, conversation.pendingByteCount == 0 else {
                        throw .boot("the init sent more after its hello, before it had its spec")
                    }
                    return hello
                case .failure(let message): throw .boot("the init failed: \(PrintableText.line(message, limit: 1024))")
                default: throw .boot("unexpected frame before the hello")
                }
            }
        }
        throw .boot("no hello from the init in time")
    }

    /// How many bytes arrive on `fd` within `settle` (read and dropped): none from a guest that waits as it should.
    static func pendingBytes(_ fd: Int32, settle: Duration) -> Int {
        let deadline = ContinuousClock.now + settle
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return total }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left.seconds * 1000))) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return total }
            total += n
        }
    }

    /// Copies the migration stream to `path` until QEMU closes it, hashing it on the way; synced to disk.
    static func receive(_ fd: Int32, into path: String) throws(SnapshotError) -> (UInt64, String) {
        let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw .save("cannot create \(path): \(errnoText(errno))") }
        defer { close(output) }
        var hasher = ContentHasher()
        var total: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .save("reading the migration stream: \(errnoText(errno))") }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, n - offset) }
                guard written > 0 else { throw .save("writing \(path): \(errnoText(errno))") }
                offset += written
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += UInt64(n)
        }
        guard fsync(output) == 0 else { throw .save("syncing \(path): \(errnoText(errno))") }
        return (total, hasher.finalize())
    }

    static func sync(_ path: String) throws(SnapshotError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else { throw .save("syncing \(path): \(errnoText(errno))") }
        close(fd)
    }

    /// `error` with the end of the boot's console and QEMU's own words, which say why a boot did not get there.
    static func explain(_ error: SnapshotError, console tail: [String], stderr: String) -> SnapshotError {
        guard case .boot(let reason) = error else { return error }
        var text = reason
        let qemu = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if !qemu.isEmpty { text += "; QEMU said: " + PrintableText.line(Array(qemu.utf8), limit: 2048) }
        if !tail.isEmpty { text += "; the console ended with: " + tail.joined(separator: " | ") }
        return .boot(text)
    }

    /// Runs blocking work on a thread of its own.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws(SnapshotError) -> T) async throws(SnapshotError) -> T {
        try await onThreadResult(work).get()
    }

    static func onThreadResult<T: Sendable>(_ work: @escaping @Sendable () throws(SnapshotError) -> T) async -> Result<T, SnapshotError> {
        await BlockingThread.run(named: "ksand-snapshot") { Result { () throws(SnapshotError) in try work() } }
    }
}
