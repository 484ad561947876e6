import Foundation
import Testing

extension SerializedIntegrationTests {
/// `ksand run --detach --backend libvirt`: the sandbox is a libvirt domain while it runs, and `ksand stop` powers it
/// off as it does a QEMU of ksand's own.
@Suite struct DetachedLibvirtTests {
    let detached = DetachedSandboxTests()

    /// The UUIDs `virsh list --uuid` prints, with `flags` (`--all`: stopped domains too).
    func libvirtDomains(_ flags: String...) async throws -> [String] {
        let listed = try await ValidateCommandTests.run("virsh", ["-c", "qemu:///system", "list", "--uuid"] + flags)
        #expect(listed.status == 0, "\(listed.output)")
        return listed.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test(.enabled(if: LibvirtRunTests.systemDaemonExpected, "qemu:///system needs libvirtd and virtlogd: ci/libvirt-daemons.sh start (ci/test.sh does)"))
    func aDetachedDomainIsListedByVirshAndStoppedCleanly() async throws {
        let marker = KsandProcess.marker()
        defer { detached.cleanUp(marker) }
        let started = try await detached.start("dom", marker: marker, backend: "libvirt", options: ["--connect", "qemu:///system"],
                                               ["sh", "-c", "echo started; exec sleep 600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        #expect(started.stderr.contains("libvirt domain"), "stderr: \(started.stderr)")
        let ps = try await detached.ksand(["ps", "--json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: ps.stdout) as? [[String: Any]])
        #expect(listed.first?["backend"] as? String == "libvirt")
        #expect(listed.first?["connectURI"] as? String == "qemu:///system")
        let uuid = try #require(listed.first?["domainUUID"] as? String)
        // The running sandbox is an ordinary domain of libvirtd's.
        #expect(try await libvirtDomains().contains(uuid))
        try detached.waitFor("the command's output") { detached.read("dom", "stdout") == "started\n" }

        let stop = try await detached.ksand(["stop", "dom", "-v"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("the guest powered off"), "stderr: \(stop.stderr)")
        let known = try await libvirtDomains("--all")
        #expect(!known.contains(uuid), "the domain is still known to libvirtd")
        detached.expectNothingLeft(marker)
    }

    @Test func twoDetachedSandboxesRunAtOnceOnTheEmbeddedDriver() async throws {
        // libvirt lets one process use an embedded root at a time; each supervisor takes a free root of ksand's pool.
        let marker = KsandProcess.marker()
        defer { detached.cleanUp(marker) }
        for name in ["one", "two"] {
            let started = try await detached.start(name, marker: marker, backend: "libvirt", ["sh", "-c", "echo \(name); exec sleep 600"])
            #expect(started.status == 0, "stderr: \(started.stderr)")
        }
        #expect(KsandProcess.qemuProcesses(containing: marker).count == 2)
        for name in ["one", "two"] { try detached.waitFor("\(name)'s output") { detached.read(name, "stdout") == "\(name)\n" } }
        let stop = try await detached.ksand(["stop", "--all", "-v"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.components(separatedBy: "the guest powered off").count == 3, "stderr: \(stop.stderr)")
        detached.expectNothingLeft(marker)
    }

    @Test func anEmbeddedRootAnotherKsandHoldsIsRefusedNamingIt() async throws {
        let root = NSTemporaryDirectory() + "ksand-libvirt-held-\(UUID().uuidString.prefix(8))"
        let marker = KsandProcess.marker()
        defer { detached.cleanUp(marker); try? FileManager.default.removeItem(atPath: root) }
        let started = try await detached.start("holder", marker: marker, backend: "libvirt", options: ["--connect", "qemu:///embed?root=\(root)"],
                                               ["sleep", "600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        let second = try await detached.ksand(["run", "--accel", "tcg", "--backend", "libvirt", "--connect", "qemu:///embed?root=\(root)", "--", "true"])
        #expect(second.status == 125, "stderr: \(second.stderr)")
        #expect(second.stderr.contains("\(root) is in use by process"), "stderr: \(second.stderr)")
        #expect(second.stderr.contains("--connect qemu:///embed?root=ANOTHER-DIR"), "stderr: \(second.stderr)")
        #expect(try await detached.ksand(["stop", "holder"]).status == 0)
        detached.expectNothingLeft(marker)
    }
}
}
