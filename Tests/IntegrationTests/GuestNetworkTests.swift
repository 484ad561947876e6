import Foundation
import Glibc
import Testing

extension SerializedIntegrationTests {
/// `--publish` and `--net` on real VMs of the project's sandbox kernel under TCG: what reaches the guest from the
/// host, and what leaves it.
@Suite struct GuestNetworkTests {
    let runtime = "/tmp/ksand-n-\(UUID().uuidString.prefix(8))"

    func ksand(_ arguments: [String], limit: Double = 120, marker: String? = nil) async throws -> KsandProcess.Result {
        try await KsandProcess.run(arguments, limit: limit, environment: ["KSAND_RUNTIME_DIR": runtime], directory: KsandProcess.repository, marker: marker)
    }

    /// `ksand run --kernel built --accel tcg OPTIONS -- COMMAND`, marked.
    func run(_ options: [String], _ command: [String], marker: String) async throws -> KsandProcess.Result {
        try await ksand(["run", "--kernel", "built", "--accel", "tcg"] + KsandProcess.markerOptions(marker, backend: "qemu") + options + ["--"] + command, marker: marker)
    }

    func cleanUp(_ marker: String) {
        for pid in KsandProcess.processes(containing: runtime) + KsandProcess.qemuProcesses(containing: marker) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: runtime)
    }

    /// A listening TCP socket on 127.0.0.1 and its port; the kernel completes connections to it without accept().
    static func listener() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(ok, "cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// A port free on 127.0.0.1 now.
    static func freePort() throws -> UInt16 {
        let (fd, port) = try listener()
        close(fd)
        return port
    }

    /// `GET path` over HTTP/1.0 from 127.0.0.1:port: the whole response, or nil when nothing answers.
    static func get(_ path: String, port: UInt16) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        // QEMU's forwarder accepts for the guest before anything listens there, then closes: no reply yet.
        return response.isEmpty ? nil : String(decoding: response, as: UTF8.self)
    }

    @Test func withoutANetworkTheGuestHasOnlyAWorkingLoopback() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let script = """
            import os, socket
            print(sorted(os.listdir('/sys/class/net')))
            server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()
            socket.create_connection(server.getsockname(), timeout=5); print('loopback works')
            """
        let result = try await run([], ["python3", "-c", script], marker: marker)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.text == "['lo']\nloopback works\n")
    }

    @Test func aPublishedServerIsReachableFromTheHostUntilStopped() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let site = runtime + "-site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: site) }
        let page = "served from the sandbox \(UUID().uuidString)\n"
        try page.write(toFile: site + "/page.txt", atomically: true, encoding: .utf8)
        let port = try Self.freePort()
        let started = try await run(
            ["--detach", "--name", "web", "--cwd", site, "--publish", "\(port):8000"], ["python3", "-m", "http.server", "8000"], marker: marker)
        #expect(started.status == 0, "stderr: \(started.stderr)")
        var response: String?
        let deadline = Date().addingTimeInterval(60)
        while response == nil && Date() < deadline {
            response = Self.get("/page.txt", port: port)
            if response == nil { usleep(100_000) }
        }
        let reply = try #require(response, "nothing answered on 127.0.0.1:\(port) within 60 s")
        #expect(reply.hasPrefix("HTTP/1.0 200"), "\(reply)")
        #expect(reply.hasSuffix("\r\n\r\n" + page), "\(reply)")
        let listing = try #require(Self.get("/", port: port))
        #expect(listing.contains("page.txt"))

        let ps = try await ksand(["ps", "--json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: ps.stdout) as? [[String: Any]])
        #expect(listed.first?["published"] as? [String] == ["127.0.0.1:\(port)->8000/tcp"], "\(listed)")
        let table = try await ksand(["ps"])
        #expect(table.text.contains("PORTS") && table.text.contains("127.0.0.1:\(port)->8000/tcp"), "\(table.text)")

        let stop = try await ksand(["stop", "web"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(Self.get("/", port: port) == nil, "the port still answers after the stop")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }

    @Test func onlyNetLetsTheGuestConnectOut() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let (fd, port) = try Self.listener()
        defer { close(fd) }
        // 10.0.2.2 is QEMU's address on the user network: the host's loopback, when the guest may get out.
        let script = """
            import socket, sys
            try:
                socket.create_connection(('10.0.2.2', \(port)), timeout=3); print('connected')
            except OSError as error:
                print('refused:', type(error).__name__); sys.exit(3)
            """
        let publishOnly = try await run(["--publish", "\(try Self.freePort()):8000"], ["python3", "-c", script], marker: marker)
        #expect(publishOnly.status == 3, "stdout: \(publishOnly.text) stderr: \(publishOnly.stderr)")
        #expect(publishOnly.text.hasPrefix("refused"))
        let outbound = try await run(["--net"], ["sh", "-c", "python3 -c \"$0\" && cat /etc/resolv.conf && cat /proc/net/route", script], marker: marker)
        #expect(outbound.status == 0, "stdout: \(outbound.text) stderr: \(outbound.stderr)")
        #expect(outbound.text.hasPrefix("connected\nnameserver 10.0.2.3\n"), "\(outbound.text)")
        // The default route goes through 10.0.2.2 (0202000A in /proc/net/route's little-endian hex).
        #expect(outbound.text.contains("eth0\t00000000\t0202000A"), "\(outbound.text)")
    }

    @Test func aPortThatCannotBePublishedIsRefusedBeforeTheVMStarts() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let (fd, port) = try Self.listener()
        defer { close(fd) }
        for options in [["--publish", "\(port):80"], ["--detach", "--publish", "\(port):80"]] {
            let result = try await run(options, ["true"], marker: marker)
            #expect(result.status == 125, "\(options): \(result.stderr)")
            #expect(result.stderr == "ksand: error: --publish 127.0.0.1:\(port)->80/tcp: 127.0.0.1:\(port)/tcp is in use; pick another host port\n")
        }
        let malformed = try await run(["--publish", "8080"], ["true"], marker: marker)
        #expect(malformed.status == 125)
        #expect(malformed.stderr.contains("--publish 8080: a host port and a guest port are needed; expected [ADDRESS:]HOST_PORT:GUEST_PORT"))
        let libvirt = try await run(["--backend", "libvirt", "--net"], ["true"], marker: marker)
        #expect(libvirt.status == 125)
        #expect(libvirt.stderr.contains("not available on the libvirt backend yet"), "\(libvirt.stderr)")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }
}
}
