import Foundation
import KsandFoundation
import Testing
@testable import LibvirtBackend

/// Connections that cannot open fail with an error that names the URI and says what to do, never with a crash.
@Suite struct LibvirtErrorTests {
    /// A socket nothing listens on is a daemon that is not running, whether or not libvirtd runs on this machine.
    @Test func aMissingDaemonSocketSaysHowToStartTheDaemon() throws {
        let uri = "qemu+unix:///system?socket=/nonexistent/sock"
        let error = try #require(throws: LibvirtError.self) { try LibvirtConnection(uri: uri) }
        #expect(error.kind == .daemonNotRunning(socket: "/nonexistent/sock"))
        #expect(error.description.contains(uri))
        #expect(error.description.contains("/nonexistent/sock"))
        #expect(error.description.contains("virtlogd -d; libvirtd -d"))
        #expect(error.description.contains("qemu:///embed?root=DIR"))
        #expect(error.code == 38 /* VIR_ERR_SYSTEM_ERROR */)
        #expect(error.systemErrno == ENOENT)
    }

    /// qemu:///system with no libvirtd (how a fresh CI machine runs, or one whose daemon died and left its socket
    /// file behind) says how to start it; where a libvirtd answers, the same URI opens.
    @Test func theSystemURIWithoutLibvirtdSaysLibvirtdIsNotRunning() throws {
        if Self.somethingListens(on: "/run/libvirt/libvirt-sock") {
            let connection = try LibvirtConnection(uri: "qemu:///system")
            #expect(try connection.canonicalURI() == "qemu:///system")
            return
        }
        let error = try #require(throws: LibvirtError.self) { try LibvirtConnection(uri: "qemu:///system") }
        guard case .daemonNotRunning = error.kind else {
            Issue.record("expected daemonNotRunning, got \(error.kind): \(error)")
            return
        }
        #expect(error.description.hasPrefix("libvirt could not open a connection on qemu:///system: "))
        #expect(error.description.contains("libvirtd is not running: start it as root with `virtlogd -d; libvirtd -d`"))
        #expect(error.description.contains("or use the embedded driver qemu:///embed?root=DIR"))
    }

    private static func somethingListens(on path: String) -> Bool {
        guard let address = UnixSocketAddress(path: path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return address.withSockaddr { connect(fd, $0, $1) } == 0
    }

    @Test func aBogusSchemeIsCalledUnknown() throws {
        let error = try #require(throws: LibvirtError.self) { try LibvirtConnection(uri: "bogus:///x") }
        #expect(error.kind == .unknownScheme("bogus"))
        #expect(error.description.contains("bogus:///x"))
        #expect(error.description.contains("'bogus' is not a libvirt driver: use qemu:///system, qemu:///session or qemu:///embed?root=DIR"))
    }

    @Test(arguments: ["not a uri", ":::"])
    func textThatIsNoURIIsCalledInvalid(uri: String) throws {
        let error = try #require(throws: LibvirtError.self) { try LibvirtConnection(uri: uri) }
        #expect(error.kind == .invalidURI)
        #expect(error.description.contains("a libvirt URI looks like qemu:///system"))
    }

    @Test func theEmbeddedDriverNeedsAnAbsoluteRoot() throws {
        for uri in ["qemu:///embed", "qemu:///embed?root=relative/dir"] {
            let error = try #require(throws: LibvirtError.self) { try LibvirtConnection(uri: uri) }
            #expect(error.kind == .invalidURI, "\(uri): \(error)")
            #expect(error.description.contains(uri))
        }
    }

    /// libvirt's own printing of errors to stderr is off once the event loop is set up.
    @Test func theEventLoopStartsOnceAndStaysUp() throws {
        try LibvirtEventLoop.start()
        try LibvirtEventLoop.start()
        #expect(LibvirtEventLoop.isRunning)
    }

    @Test func classificationReadsTheErrnoOfASocketThatRefusesTheCaller() {
        var error = LibvirtError(operation: "open a connection", uri: "qemu:///system",
                                 code: 38 /* VIR_ERR_SYSTEM_ERROR */, errorDomain: 7,
                                 message: "Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied",
                                 systemErrno: EACCES)
        error.kind = error.classify(.connecting)
        #expect(error.kind == .permissionDenied(socket: "/var/run/libvirt/libvirt-sock"))
        #expect(error.description.contains("add your user to the libvirt group"))
        #expect(error.description.contains("qemu:///session"))
    }

    /// A refusal by libvirt itself is not blamed on QEMU.
    @Test func aStartLibvirtRefusesIsNotCalledAQEMUFailure() {
        var error = LibvirtError(operation: "start domain 'web'", uri: "qemu:///embed?root=/tmp/r", code: 1, errorDomain: 10,
                                 message: "internal error: Domain autodestroy not supported for embedded drivers yet")
        error.kind = error.classify(.startingDomain(log: "/tmp/r/log/qemu/web.log"))
        #expect(error.kind == .other)
        #expect(error.description == "libvirt could not start domain 'web' on qemu:///embed?root=/tmp/r: "
            + "internal error: Domain autodestroy not supported for embedded drivers yet")
    }

    @Test func aDomainThatFailedToStartPointsAtQEMUsLog() {
        var error = LibvirtError(operation: "start domain 'web'", uri: "qemu:///embed?root=/tmp/r", code: 1, errorDomain: 10,
                                 message: "internal error: qemu unexpectedly closed the monitor: qemu-system-x86_64: -kernel /nope: No such file")
        error.kind = error.classify(.startingDomain(log: "/tmp/r/log/qemu/web.log"))
        #expect(error.kind == .domainFailedToStart(log: "/tmp/r/log/qemu/web.log"))
        #expect(error.description.contains("qemu-system-x86_64: -kernel /nope: No such file"))
        #expect(error.description.contains("/tmp/r/log/qemu/web.log"))
    }
}
