import Foundation
import Testing
@testable import Sandbox

/// The QMP reply parser on what QEMU 7.2 (Debian 12) really sent: `qemu-system-x86_64 -machine none -qmp stdio`
/// given qmp_capabilities, query-status, a command that does not exist, system_powerdown, query-version and quit.
@Suite struct QMPMessageTests {
    static let session = [
        #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"#,
        #"{"return": {}}"#,
        #"{"return": {"status": "running", "singlestep": false, "running": true}}"#,
        #"{"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}}"#,
        #"{"timestamp": {"seconds": 1796151353, "microseconds": 655916}, "event": "POWERDOWN"}"#,
    ].map { Array(($0 + "\r\n").utf8) }

    @Test func classifiesWhatQEMUSends() throws {
        let messages = Self.session.map { QMPMessage(line: $0) }
        guard case .greeting? = messages[0] else { Issue.record("\(String(describing: messages[0]))"); return }
        guard case .success(let empty)? = messages[1], (empty as? [String: Any])?.isEmpty == true else { Issue.record("no empty return"); return }
        guard case .success(let status)? = messages[2] else { Issue.record("no status"); return }
        #expect((status as? [String: Any])?["status"] as? String == "running")
        guard case .failure(let description)? = messages[3] else { Issue.record("no error"); return }
        #expect(description == "The command no-such-command has not been found")
        guard case .event(let name)? = messages[4] else { Issue.record("no event"); return }
        #expect(name == "POWERDOWN")
    }

    @Test func whatIsNotAnObjectOrNotQMPIsSaidSo() {
        #expect(QMPMessage(line: Array("not json".utf8)) == nil)
        #expect(QMPMessage(line: Array("[1, 2]".utf8)) == nil)
        guard case .unexpected(let text)? = QMPMessage(line: Array("{\"hello\": 1}\r".utf8)) else { Issue.record("not unexpected"); return }
        #expect(text == "{\"hello\": 1}")
        guard case .failure(let description)? = QMPMessage(line: Array("{\"error\": {\"class\": \"GenericError\"}}".utf8)) else {
            Issue.record("not a failure")
            return
        }
        #expect(description.contains("GenericError"))
    }

    @Test func linesSurviveArbitraryPieces() {
        let wire = Self.session.flatMap { $0 }
        for size in [1, 2, 7, 64, wire.count] {
            var buffer = QMPLineBuffer()
            var lines: [[UInt8]] = []
            for start in stride(from: 0, to: wire.count, by: size) {
                buffer.append(wire[start..<min(start + size, wire.count)])
                while let line = buffer.nextLine() { lines.append(line) }
            }
            #expect(lines == Self.session.map { Array($0.dropLast()) }, "pieces of \(size)")
            #expect(!buffer.isOverlong)
        }
    }

    @Test func aLineWithoutEndIsBounded() {
        var buffer = QMPLineBuffer()
        buffer.append(repeatElement(UInt8(ascii: "x"), count: QMPLineBuffer.maxLineLength))
        #expect(buffer.nextLine() == nil)
        #expect(!buffer.isOverlong)
        buffer.append([UInt8(ascii: "x")])
        #expect(buffer.nextLine() == nil)
        #expect(buffer.isOverlong)
    }
}
