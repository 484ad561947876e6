import Foundation
import Testing
@testable import LibvirtBackend

/// The embedded driver root of this test process, under /tmp, removed when the process exits. libvirt runs one
/// embedded QEMU driver per process, on the first root opened, so every test that boots shares this one.
enum SharedEmbeddedRoot {
    static let path: String? = {
        var template = Array("/tmp/ksand-libvirt-embed-XXXXXX".utf8CString)
        return mkdtemp(&template).map { String(cString: $0) }
    }()

    static let root: Result<EmbeddedDriverRoot, EmbeddedDriverRootError> = {
        guard let path else { return .failure(.io(what: "create", path: "/tmp/ksand-libvirt-embed-XXXXXX", errno: errno)) }
        atexit {
            if let path = SharedEmbeddedRoot.path { try? FileManager.default.removeItem(atPath: path) }
        }
        return Result { () throws(EmbeddedDriverRootError) in try EmbeddedDriverRoot.prepare(at: path) }
    }()
}

/// A connection to the shared embedded driver and the panicking-kernel fixture, for one test. Letting go of it
/// destroys any domain it started that still runs, and kills that domain's QEMU if it somehow survived.
final class EmbeddedGuest {
    let root: EmbeddedDriverRoot
    let connection: LibvirtConnection
    private(set) var started: [(domain: LibvirtDomain, pid: pid_t?)] = []

    init() throws {
        root = try SharedEmbeddedRoot.root.get()
        connection = try LibvirtConnection(uri: root.uri)
    }

    deinit {
        for (domain, pid) in started {
            try? domain.destroy()
            if let pid, LibvirtDomain.isQEMU(pid: pid, domainName: domain.name) { kill(pid, SIGKILL) }
        }
    }

    /// The distro kernel the fixture boots: the newest /boot/vmlinuz-* (linux-image-amd64).
    static func kernel() throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: "/boot").filter { $0.hasPrefix("vmlinuz-") }.sorted()
        return "/boot/" + (try #require(names.last, "no /boot/vmlinuz-*: install linux-image-amd64"))
    }

    /// The fixture's XML for a domain called `name`.
    static func panickingKernelXML(name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "panicking-kernel", withExtension: "xml", subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "@NAME@", with: name)
            .replacingOccurrences(of: "@KERNEL@", with: try kernel())
    }

    /// Starts the fixture as a transient, autodestroyed domain with a name of its own; remembered for cleanup.
    func start(paused: Bool) throws -> LibvirtDomain {
        let name = "ksand-test-\(UInt32.random(in: 0...UInt32.max))"
        let domain = try connection.createTransientDomain(xml: try Self.panickingKernelXML(name: name), autodestroy: true, paused: paused)
        started.append((domain, domain.qemuPID))
        return domain
    }
}

/// Whether a process with this pid still exists and is not a zombie.
func processExists(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
}

/// Collects console text until the stream ends; `marker` notes when a line was first seen.
actor ConsoleTranscript {
    private(set) var text = ""
    private(set) var firstSeen: [String: ContinuousClock.Instant] = [:]

    func append(_ bytes: [UInt8], markers: [String]) {
        text += String(decoding: bytes, as: UTF8.self)
        for marker in markers where firstSeen[marker] == nil && text.contains(marker) { firstSeen[marker] = .now }
    }
}
