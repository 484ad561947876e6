import Testing
@testable import LibvirtBackend

/// URIs taken apart: the driver and transport, whether they are local, and where a local QEMU driver keeps pid files.
@Suite struct LibvirtURITests {
    @Test func aSchemeSplitsIntoDriverAndTransport() throws {
        let uri = try #require(LibvirtURI("qemu+unix:///system?socket=/nonexistent/sock"))
        #expect(uri.driver == "qemu")
        #expect(uri.transport == "unix")
        #expect(uri.host == nil)
        #expect(uri.path == "/system")
        #expect(uri.parameters == ["socket": "/nonexistent/sock"])
        #expect(uri.isLocal && uri.hasKnownDriver && !uri.isEmbedded)

        let remote = try #require(LibvirtURI("qemu+ssh://root@build.example/system"))
        #expect(remote.transport == "ssh" && remote.host == "build.example" && !remote.isLocal)
        #expect(remote.qemuPidDirectory() == nil)
    }

    @Test func pidFilesLiveInTheDriversRunDirectory() throws {
        #expect(LibvirtURI("qemu:///system")?.qemuPidDirectory() == "/run/libvirt/qemu")
        #expect(LibvirtURI("qemu:///embed?root=/tmp/ksand-root")?.qemuPidDirectory() == "/tmp/ksand-root/run/qemu")
        #expect(LibvirtURI("qemu:///session")?.qemuPidDirectory(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], isRoot: false)
            == "/run/user/1000/libvirt/qemu/run")
        #expect(LibvirtURI("qemu:///session")?.qemuPidDirectory(environment: [:], isRoot: true) == "/run/libvirt/qemu")
        #expect(LibvirtURI("test:///default")?.qemuPidDirectory() == nil)
        #expect(LibvirtURI("qemu:///embed?root=relative")?.qemuPidDirectory() == nil)
    }

    @Test func anEmbeddedRootIsPercentEncodedAndDecodedBack() throws {
        let text = LibvirtURI.embedded(root: "/tmp/a dir/x+y&z")
        #expect(text == "qemu:///embed?root=/tmp/a%20dir/x%2By%26z")
        let uri = try #require(LibvirtURI(text))
        #expect(uri.isEmbedded)
        #expect(uri.embeddedRoot == "/tmp/a dir/x+y&z")
        #expect(uri.qemuLogDirectory() == "/tmp/a dir/x+y&z/log/qemu")
    }

    @Test func textWithoutASchemeIsNoURI() {
        #expect(LibvirtURI("not a uri") == nil)
        #expect(LibvirtURI("/var/run/libvirt/libvirt-sock") == nil)
        #expect(LibvirtURI("bogus:///x")?.hasKnownDriver == false)
    }
}
