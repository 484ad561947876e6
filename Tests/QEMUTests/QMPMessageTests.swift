import Foundation
import KsandFoundation
@testable import QEMU
import Testing

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
        #expect(messages[1] == .success(.object([:])))
        guard case .success(let status)? = messages[2] else { Issue.record("no status"); return }
        #expect(status == .object(["status": .string("running"), "singlestep": .bool(false), "running": .bool(true)]))
        #expect(status["status"]?.string == "running")
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

    /// A reply's `return` is whatever the command returns: kept as it came, whatever its shape.
    @Test func aReturnOfAnyShapeIsKept() {
        #expect(QMPMessage(line: Array(#"{"return": [1, "a", null, true, {"b": 2.5}]}"#.utf8))
            == .success(.array([.number(1), .string("a"), .null, .bool(true), .object(["b": .number(2.5)])])))
        #expect(QMPMessage(line: Array(#"{"return": null}"#.utf8)) == .success(.null))
        #expect(QMPMessage(line: Array(#"{"return": "text"}"#.utf8)) == .success(.string("text")))
        #expect(QMPMessage(line: Array(#"{"event": 5, "return": {}}"#.utf8)) == .event(name: "5"))
        #expect(QMPMessage(line: Array(#"{"error": "not an object"}"#.utf8)) == .unexpected(#"{"error": "not an object"}"#))
        #expect(QMPMessage(line: Array(#"{"QMP": null}"#.utf8)) == .greeting)
    }

    /// What JSON cannot hold in a Double, or nests deeper than the decoder goes, is no message: never a trap.
    @Test func unreadableValuesAreNoMessage() {
        #expect(QMPMessage(line: Array(#"{"return": 1e400}"#.utf8)) == nil)
        #expect(QMPMessage(line: Array(#"{"return": "\ud800"}"#.utf8)) == nil)
        let deep = "{\"return\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(QMPMessage(line: Array(deep.utf8)) == nil)
        #expect(QMPMessage(line: Array(#"{"return": {}"#.utf8)) == nil)
    }

    /// The commands as they go on the wire: one line, keys sorted, `arguments` only when given.
    @Test func commandsAreOneLineOfJSON() throws {
        #expect(String(decoding: try JSONDocument.compact(QMPClient.Command(execute: "qmp_capabilities")), as: UTF8.self)
            == #"{"execute":"qmp_capabilities"}"#)
        let command = QMPClient.Command(execute: "device_del", arguments: ["id": "net0", "force": true, "path": "/a"])
        #expect(String(decoding: try JSONDocument.compact(command), as: UTF8.self)
            == #"{"arguments":{"force":true,"id":"net0","path":"\/a"},"execute":"device_del"}"#)
    }

    /// A value read from a reply writes back as compact JSON that reads back as the same value.
    @Test func valuesRoundTrip() throws {
        let line = #"{"return": {"n": -0.5, "big": 12345678901234567890123, "s": "\u001b/é", "l": [[], {}], "z": null}}"#
        guard case .success(let value)? = QMPMessage(line: Array(line.utf8)) else { Issue.record("no return"); return }
        #expect(value.description == #"{"big":1.2345678901234568e+22,"l":[[],{}],"n":-0.5,"s":"\u001b\/é","z":null}"#)
        #expect(JSONDocument.decode(JSONValue.self, from: try JSONDocument.compact(value)) == value)
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
