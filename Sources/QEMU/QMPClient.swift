import Foundation
import KsandFoundation

/// A failed exchange with QEMU's QMP control socket.
public struct QMPError: Error, CustomStringConvertible, Sendable {
    public var socket: String
    public var reason: String
    public var description: String { "QMP \(socket): \(reason)" }
}

/// Sends one command over QEMU's QMP socket (`-qmp unix:PATH,server=on,wait=off`): connect, read the greeting,
/// negotiate capabilities, execute, read the reply. Each call is its own short connection; every wait is bounded.
public struct QMPClient: Sendable {
    public var socketPath: String
    public var timeout: Duration

    public init(socketPath: String, timeout: Duration = .seconds(2)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// Executes `command` (e.g. `system_powerdown`) and returns its `return` value.
    @discardableResult
    public func execute(_ command: String, arguments: [String: JSONValue]? = nil) throws(QMPError) -> JSONValue {
        let fd = try connect()
        defer { close(fd) }
        var reader = LineReader(fd: fd, socket: socketPath, deadline: ContinuousClock.now + timeout)
        guard case .greeting? = QMPMessage(line: try reader.nextLine()) else {
            throw fail("no QMP greeting (is this a QMP socket?)")
        }
        try send(Command(execute: "qmp_capabilities"), on: fd)
        _ = try reply(&reader, to: "qmp_capabilities")
        try send(Command(execute: command, arguments: arguments), on: fd)
        return try reply(&reader, to: command)
    }

    private func connect() throws(QMPError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw fail("socket: \(errnoText(errno))") }
        guard let address = UnixSocketAddress(path: socketPath) else {
            close(fd)
            throw fail("path too long for a unix socket")
        }
        let connected = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw fail("cannot connect: \(errnoText(code))")
        }
        return fd
    }

    /// `{"execute": "query-status"}`, with `arguments` when the command takes some.
    struct Command: Encodable {
        var execute: String
        var arguments: [String: JSONValue]?
    }

    private func send(_ command: Command, on fd: Int32) throws(QMPError) {
        guard var data = try? JSONDocument.compact(command) else { throw fail("cannot encode the arguments of \(command.execute)") }
        data.append(UInt8(ascii: "\n"))
        let written = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == data.count else { throw fail("send: \(errnoText(errno))") }
    }

    /// The `return` of the reply to the command just sent; asynchronous events in between are skipped.
    private func reply(_ reader: inout LineReader, to command: String) throws(QMPError) -> JSONValue {
        while true {
            switch QMPMessage(line: try reader.nextLine()) {
            case nil: throw fail("unreadable reply to \(command)")
            case .event?: continue
            case .success(let value)?: return value
            case .failure(let description)?: throw fail("\(command) failed: \(description)")
            case .greeting?: throw fail("unexpected reply to \(command): a second greeting")
            case .unexpected(let text)?: throw fail("unexpected reply to \(command): \(text)")
            }
        }
    }

    private func fail(_ reason: String) -> QMPError { QMPError(socket: socketPath, reason: reason) }

    /// Reads newline-terminated messages until the deadline.
    private struct LineReader {
        let fd: Int32
        let socket: String
        let deadline: ContinuousClock.Instant
        var lines = QMPLineBuffer()

        mutating func nextLine() throws(QMPError) -> [UInt8] {
            while true {
                if let line = lines.nextLine() { return line }
                guard !lines.isOverlong else {
                    throw QMPError(socket: socket, reason: "a reply longer than \(QMPLineBuffer.maxLineLength) bytes without a line end")
                }
                let left = deadline - ContinuousClock.now
                guard left > .zero else { throw QMPError(socket: socket, reason: "no reply in time") }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw QMPError(socket: socket, reason: "QEMU closed the connection") }
                lines.append(chunk[0..<n])
            }
        }
    }
}
