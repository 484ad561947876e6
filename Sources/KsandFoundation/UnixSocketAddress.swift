import Foundation

/// A `sockaddr_un` for a filesystem path, for bind(2) and connect(2).
public struct UnixSocketAddress {
    private var address = sockaddr_un()

    /// The longest path a unix socket address holds (the terminating NUL needs the last byte).
    public static var maxPathLength: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    /// Nil when `path` is too long for a unix socket.
    public init?(path: String) {
        guard path.utf8.count <= UnixSocketAddress.maxPathLength else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
    }

    /// Calls `body` (bind or connect) with the address as a `sockaddr` and its length.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
