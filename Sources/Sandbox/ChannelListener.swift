import Foundation
import KsandFoundation
import Synchronization

/// A listening unix socket that QEMU connects the command channel's chardev to.
final class ChannelListener: Sendable {
    let path: String
    let fd: Int32

    init(path: String) throws(SandboxError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io(what: "cannot create socket for", path: path, errno: errno) }
        guard let address = UnixSocketAddress(path: path) else {
            close(fd)
            throw .invalidOption("socket path \(path) is longer than \(UnixSocketAddress.maxPathLength) bytes; set KSAND_RUNTIME_DIR to a shorter directory")
        }
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 1) == 0 else {
            let code = errno
            close(fd)
            throw .io(what: "cannot listen on", path: path, errno: code)
        }
        self.path = path
        self.fd = fd
    }

    /// Waits up to `timeout` for QEMU to connect. Nil on timeout or when `cancelled` says so.
    func accept(timeout: Duration, cancelled: () -> Bool) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !cancelled() {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 50) > 0 {
                let client = Glibc.accept(fd, nil, nil)
                if client >= 0 {
                    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                    return client
                }
            }
        }
        return nil
    }

    private let closed = Mutex(false)

    /// Stops listening and removes the socket, so that another run in the same directory can listen there.
    func shutDown() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        close(fd)
        unlink(path)
    }

    deinit { shutDown() }
}
