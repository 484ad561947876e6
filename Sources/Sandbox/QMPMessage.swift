import Foundation

/// One message from QEMU's QMP socket, read from its line of JSON: the greeting, an asynchronous event, or the reply
/// to a command (its `return` value or its `error`). Pure: ``QMPClient`` reads the lines and feeds them here.
public enum QMPMessage {
    /// `{"QMP": {"version": …, "capabilities": […]}}`, the first line on a new connection.
    case greeting
    /// `{"event": "POWERDOWN", "timestamp": …}`: something happened; not a reply.
    case event(name: String)
    /// `{"return": …}`: the command succeeded; its value (often an empty object).
    case success(Any)
    /// `{"error": {"class": "CommandNotFound", "desc": "…"}}`: the command failed; the description QEMU gave.
    case failure(description: String)
    /// A JSON object that is none of these, as it was sent.
    case unexpected(String)

    /// Parses one line (its `\r\n` may still be on it); nil when the line is not a JSON object.
    public init?(line: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else { return nil }
        if let name = object["event"] {
            self = .event(name: name as? String ?? "\(name)")
        } else if let value = object["return"] {
            self = .success(value)
        } else if let error = object["error"] as? [String: Any] {
            self = .failure(description: error["desc"] as? String ?? "\(error)")
        } else if object["QMP"] != nil {
            self = .greeting
        } else {
            self = .unexpected(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
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
