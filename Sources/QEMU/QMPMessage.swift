import Foundation
import KsandFoundation

/// One message from QEMU's QMP socket, read from its line of JSON: the greeting, an asynchronous event, or the reply
/// to a command (its `return` value or its `error`). Pure: ``QMPClient`` reads the lines and feeds them here.
public enum QMPMessage: Equatable, Sendable {
    /// `{"QMP": {"version": …, "capabilities": […]}}`, the first line on a new connection.
    case greeting
    /// `{"event": "POWERDOWN", "timestamp": …}`: something happened; not a reply.
    case event(name: String)
    /// `{"return": …}`: the command succeeded; its value (often an empty object), whatever its shape.
    case success(JSONValue)
    /// `{"error": {"class": "CommandNotFound", "desc": "…"}}`: the command failed; the description QEMU gave.
    case failure(description: String)
    /// A JSON object that is none of these, as it was sent.
    case unexpected(String)

    /// Parses one line (its `\r\n` may still be on it); nil when the line is not a JSON object.
    public init?(line: [UInt8]) {
        guard let members = JSONDocument.decode(Members.self, from: Data(line)) else { return nil }
        if let name = members.event {
            self = .event(name: name.string ?? name.description)
        } else if let value = members.returned {
            self = .success(value)
        } else if let error = members.error, case .object = error {
            self = .failure(description: error["desc"]?.string ?? error.description)
        } else if members.isGreeting {
            self = .greeting
        } else {
            self = .unexpected(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// The members of a message that tell what it is, each of any shape (a member that is JSON null is still there).
    private struct Members: Decodable {
        var event: JSONValue?
        var returned: JSONValue?
        var error: JSONValue?
        var isGreeting: Bool

        enum CodingKeys: String, CodingKey {
            case event
            case returned = "return"
            case error
            case greeting = "QMP"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func member(_ key: CodingKeys) throws -> JSONValue? {
                container.contains(key) ? try container.decode(JSONValue.self, forKey: key) : nil
            }
            event = try member(.event)
            returned = try member(.returned)
            error = try member(.error)
            isGreeting = container.contains(.greeting)
        }
    }
}

/// Splits the bytes read from a QMP socket into lines. Bounded: a line longer than ``maxLineLength`` without its end
/// in sight makes ``isOverlong`` true instead of growing the buffer without end.
public struct QMPLineBuffer: Sendable {
    /// QEMU's replies to the commands ksand sends are a few hundred bytes.
    public static let maxLineLength = 1 << 20

    private var buffer: [UInt8] = []
    /// How much of `buffer` is known to hold no newline.
    private var scanned = 0

    public init() {}

    /// Adds bytes read from the socket.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line, without its `\n`; nil when more bytes are needed.
    public mutating func nextLine() -> [UInt8]? {
        guard let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = buffer.count
            return nil
        }
        let line = Array(buffer[..<newline])
        buffer.removeSubrange(...newline)
        scanned = 0
        return line
    }

    /// Whether the bytes waiting hold no line end and are already longer than any line may be.
    public var isOverlong: Bool { buffer.count > Self.maxLineLength }
}
