import Foundation
import Testing

extension SerializedIntegrationTests {
/// `ksand run --backend libvirt` on the embedded driver: a transient libvirt domain in ksand's own process, no daemon.
@Suite struct LibvirtRunTests {
    /// An embedded-driver root of the test's own, removed afterwards.
    static func withRoot(_ body: (String) async throws -> Void) async throws {
        let root = NSTemporaryDirectory() + "ksand-libvirt-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await body(root)
    }

    @Test func stdoutStderrAndExitStatusComeBackThroughALibvirtDomain() async throws {
        try await Self.withRoot { root in
            let marker = KsandProcess.marker()
            let result = try await KsandProcess.run(
                ["run", "--accel", "tcg", "--backend", "libvirt", "--connect", "qemu:///embed?root=\(root)", "--append", marker, "--json", root + ".json",
                 "--", "sh", "-c", "echo out; echo err >&2; exit 7"])
            defer { try? FileManager.default.removeItem(atPath: root + ".json") }
            #expect(result.status == 7, "stderr: \(result.stderr)")
            #expect(result.text == "out\n")
            #expect(result.stderr == "err\n")
            #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty, "a QEMU process was left behind")
            // The domain was libvirt's: its QEMU log is in the embedded root, with the guest's kernel arguments.
            let logs = try FileManager.default.contentsOfDirectory(atPath: root + "/log/qemu").filter { $0.hasSuffix(".log") }
            #expect(logs.count == 1)
            let log = try String(contentsOfFile: root + "/log/qemu/" + logs[0], encoding: .utf8)
            #expect(log.contains(marker))
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + ".json"))) as? [String: Any]
            #expect(report?["exitStatus"] as? Int == 7)
        }
    }

    @Test func aConnectionThatCannotBeOpenedIsASetupErrorNamingTheURI() async throws {
        let result = try await KsandProcess.run(
            ["run", "--accel", "tcg", "--backend", "libvirt", "--connect", "qemu+unix:///system?socket=/nonexistent/libvirt-sock", "--", "true"])
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("qemu+unix:///system?socket=/nonexistent/libvirt-sock"), "\(result.stderr)")
        #expect(result.stderr.contains("libvirtd"), "\(result.stderr)")
    }

    @Test func connectWithoutTheLibvirtBackendIsRefused() async throws {
        let result = try await KsandProcess.run(["run", "--backend", "qemu", "--connect", "qemu:///system", "--", "true"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--connect is libvirt's connection URI; it needs --backend libvirt"), "\(result.stderr)")
        let detached = try await KsandProcess.run(["run", "--backend", "libvirt", "--detach", "--", "true"])
        #expect(detached.status != 0)
        #expect(detached.stderr.contains("--detach runs under --backend qemu only"), "\(detached.stderr)")
    }
}
}
