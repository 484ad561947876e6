import Foundation
import Testing
@testable import LibvirtBackend

/// Real domains on the embedded QEMU driver (no daemon): the fixture's distro kernel, booted under TCG with no initrd,
/// panics at the root mount and reboots, which ends the domain. One at a time, since they share the process's root.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EmbeddedDomainTests {
    @Test func theEmbeddedDriverOpensWithNoDaemonAndListsNoDomains() throws {
        let guest = try EmbeddedGuest()
        #expect(try guest.connection.runningDomainNames() == [])
        #expect(try guest.connection.domains(includeInactive: true).isEmpty)
        #expect(try guest.connection.canonicalURI().hasPrefix("qemu:///embed?root="))
    }

    @Test func aSecondEmbeddedRootInTheSameProcessIsRefusedWithTheReason() throws {
        let guest = try EmbeddedGuest()
        let scratch = try ScratchDirectory()
        let other = try EmbeddedDriverRoot.prepare(at: scratch.path + "/other")
        let error = try #require(throws: LibvirtError.self) { try LibvirtConnection(uri: other.uri) }
        #expect(error.kind == .embeddedDriverOnAnotherRoot(openRoot: guest.root.path))
        #expect(error.description.contains("one embedded QEMU driver per process"))
    }

    /// The whole life of a guest: started paused, its console opened, resumed; the kernel's first line arrives, the
    /// panic ends the domain, the lifecycle event says so, and neither the domain nor its QEMU remains.
    @Test func aPanickingKernelIsSeenOnTheConsoleAndIsGoneAfterThePanic() async throws {
        let guest = try EmbeddedGuest()
        let domain = try guest.start(paused: true)
        #expect(try guest.connection.runningDomainNames() == [domain.name])
        #expect(try guest.connection.lookupDomain(uuid: domain.uuid)?.name == domain.name)
        #expect(try guest.connection.lookupDomain(name: domain.name)?.uuid == domain.uuid)
        #expect(domain.id != nil)
        guard case .paused = try domain.state() else { Issue.record("not paused: \(try domain.state())"); return }
        #expect(try domain.xml().contains("<name>\(domain.name)</name>"))

        let pid = try #require(domain.qemuPID, "no QEMU pid in \(guest.root.pidDirectory)/\(domain.name).pid")
        #expect(processExists(pid))
        #expect(try domain.progress().qemuPID == pid)

        let console = try LibvirtConsoleStream(domain: domain)
        let transcript = ConsoleTranscript()
        let reading = Task {
            for await chunk in console.chunks { await transcript.append(chunk, markers: ["Linux version", "Kernel panic"]) }
        }
        let waiting = Task { try await domain.waitUntilGone(timeout: .seconds(150)) }
        let resumed = ContinuousClock.now
        try domain.resume()
        guard case .running(.unpaused) = try domain.state() else { Issue.record("not running: \(try domain.state())"); return }
        let cpu = try #require(try domain.progress().cpuTimeNanoseconds)
        #expect(cpu > 0)

        let outcome = try await waiting.value
        await reading.value
        let text = await transcript.text
        guard case .gone(let event) = outcome else {
            Issue.record("the domain did not go: \(outcome); console so far:\n\(text.suffix(2000))")
            return
        }
        #expect(event.kind == .stopped)
        #expect(event.domainUUID == domain.uuid)
        #expect(text.contains("Linux version"), "console:\n\(text.prefix(2000))")
        #expect(text.contains("Kernel panic"), "console:\n\(text.suffix(2000))")
        let firstLine = try #require(await transcript.firstSeen["Linux version"])
        #expect(firstLine > resumed)
        #expect(console.ending == .endOfStream)
        #expect(console.droppedBytes == 0)

        #expect(try guest.connection.runningDomainNames() == [])
        #expect(try guest.connection.lookupDomain(uuid: domain.uuid) == nil)
        #expect(try !domain.isActive())
        #expect(domain.qemuPID == nil)
        #expect(!processExists(pid))
    }

    /// Destroying a running guest ends it at once, and a wait that began before returns with the reason.
    @Test(arguments: [true, false]) func destroyingARunningGuestEndsItAndTheWaitReturns(graceful: Bool) async throws {
        let guest = try EmbeddedGuest()
        let domain = try guest.start(paused: false)
        let pid = try #require(domain.qemuPID)
        let waiting = Task { try await domain.waitUntilGone(timeout: .seconds(60)) }
        // The power button reaches the guest; with nothing to handle it, the kernel carries on.
        try domain.shutdown(.acpiPowerButton)
        try domain.destroy(graceful: graceful)
        let outcome = try await waiting.value
        guard case .gone(let event) = outcome else { Issue.record("the domain did not go: \(outcome)"); return }
        #expect(event.stopReason == .destroyed)
        #expect(try guest.connection.runningDomainNames() == [])
        #expect(!processExists(pid))
        #expect(try await domain.waitUntilGone() == .wasNotRunning)
        let error = try #require(throws: LibvirtError.self) { try domain.destroy() }
        #expect(error.kind == .noDomain)
    }

    /// A wait gives up when told to, and says the domain may still run.
    @Test func aWaitThatTimesOutSaysSo() async throws {
        let guest = try EmbeddedGuest()
        let domain = try guest.start(paused: true)
        #expect(try await domain.waitUntilGone(timeout: .milliseconds(200)) == .timedOut)
        try domain.destroy()
        #expect(try guest.connection.runningDomainNames() == [])
    }

    /// A domain its connection started with autodestroy ends when that connection closes.
    @Test func autodestroyEndsTheDomainWithItsConnection() async throws {
        let watcher = try EmbeddedGuest()
        let name = "ksand-test-autodestroy-\(UInt32.random(in: 0...UInt32.max))"
        var owner: LibvirtConnection? = try LibvirtConnection(uri: watcher.root.uri)
        _ = try owner?.createTransientDomain(xml: try EmbeddedGuest.panickingKernelXML(name: name), autodestroy: true, paused: true)
        let domain = try #require(try watcher.connection.lookupDomain(name: name))
        defer { try? domain.destroy() }
        let pid = try #require(domain.qemuPID)
        owner = nil
        #expect(try await domain.waitUntilGone(timeout: .seconds(30)).isGone)
        #expect(try watcher.connection.lookupDomain(name: name) == nil)
        #expect(!processExists(pid))
    }

    /// libvirt's own start failure, with QEMU's words in it.
    @Test func aDomainQEMUCannotStartReportsQEMUsError() throws {
        let guest = try EmbeddedGuest()
        let xml = try EmbeddedGuest.panickingKernelXML(name: "ksand-test-nokernel")
            .replacingOccurrences(of: try EmbeddedGuest.kernel(), with: "/nonexistent/vmlinuz")
        let error = try #require(throws: LibvirtError.self) {
            try guest.connection.createTransientDomain(xml: xml, autodestroy: true)
        }
        guard case .domainFailedToStart = error.kind else { Issue.record("\(error.kind): \(error)"); return }
        #expect(error.description.contains("ksand-test-nokernel"))
        #expect(error.description.contains("could not open kernel file '/nonexistent/vmlinuz'"))
        #expect(error.description.contains("QEMU's whole log is in \(guest.root.logDirectory)/ksand-test-nokernel.log"))
    }
}
