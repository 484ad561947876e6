import Foundation
import Subprocess
import Testing
@testable import QEMU

/// The QMP client against a real QEMU (no guest: `-machine none`), and against sockets that are not QMP.
@Suite struct QMPClientTests {
    @Test func executesACommandOnARealQEMU() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-qmp-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/qmp.sock"
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64"), "qemu-system-x86_64 is not installed (apt install qemu-system-x86)")
        // Should the body throw, swift-subprocess stops QEMU before rethrowing.
        let qemu = try await Subprocess.run(
            .name("qemu-system-x86_64"), arguments: ["-machine", "none", "-display", "none", "-nodefaults", "-qmp", "unix:\(socket),server=on,wait=off"],
            input: .none, output: .currentStandardOutput, error: .currentStandardError
        ) { _ in
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let client = QMPClient(socketPath: socket)
            let status = try client.execute("query-status")
            #expect(status["status"]?.string != nil, "\(status)")
            #expect(throws: QMPError.self) { try client.execute("no-such-command") }
            do throws(QMPError) {
                try client.execute("no-such-command")
            } catch {
                #expect(error.description.contains("no-such-command failed"))
            }
            try client.execute("quit")
        }
        #expect(qemu.terminationStatus == .exited(0))
    }

    @Test func aMissingSocketIsAnErrorNamingIt() {
        do {
            try QMPClient(socketPath: "/nonexistent/qmp.sock").execute("system_powerdown")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("/nonexistent/qmp.sock"))
            #expect(error.description.contains("cannot connect"))
        }
    }
}
