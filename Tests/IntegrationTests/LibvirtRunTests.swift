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

    /// Whether qemu:///system is to be tested: its socket is there, or the test command started libvirtd for it
    /// (then a missing socket fails the test instead of skipping it).
    static let systemDaemonExpected = FileManager.default.fileExists(atPath: "/run/libvirt/libvirt-sock")
        || ProcessInfo.processInfo.environment["KSAND_TEST_LIBVIRT_SYSTEM"] == "1"

    @Test(.enabled(if: systemDaemonExpected, "qemu:///system needs libvirtd and virtlogd: ci/libvirt-daemons.sh start (ci/test.sh does)"))
    func stdoutStderrAndExitStatusComeBackThroughTheSystemDaemon() async throws {
        #expect(FileManager.default.fileExists(atPath: "/run/libvirt/libvirt-sock"), "libvirtd does not run: ci/libvirt-daemons.sh start")
        let marker = KsandProcess.marker()
        let result = try await KsandProcess.run(
            ["run", "--accel", "tcg", "--backend", "libvirt", "--connect", "qemu:///system", "--append", marker,
             "--", "sh", "-c", "echo out; echo err >&2; exit 7"])
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(result.text == "out\n")
        #expect(result.stderr == "err\n")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty, "a QEMU process was left behind")
        // The domain was libvirtd's: QEMU's log is where libvirtd keeps them, and the domain is gone from its list.
        let logs = try FileManager.default.contentsOfDirectory(atPath: "/var/log/libvirt/qemu").filter { $0.hasPrefix("ksand-") }
        let mine = try logs.filter { try String(contentsOfFile: "/var/log/libvirt/qemu/" + $0, encoding: .utf8).contains(marker) }
        #expect(mine.count == 1, "logs: \(logs)")
        let listed = try await ValidateCommandTests.run("virsh", ["-c", "qemu:///system", "list", "--all", "--name"])
        #expect(listed.status == 0, "\(listed.output)")
        for log in mine { #expect(!listed.output.contains(String(log.dropLast(4))), "virsh list --all: \(listed.output)") }
        for log in mine { try? FileManager.default.removeItem(atPath: "/var/log/libvirt/qemu/" + log) }
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
    }
}
}
