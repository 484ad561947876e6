import Foundation

/// How ksand writes and reads back its JSON documents. Keys are sorted (by code point: `exitStatus` before
/// `exited`), so the same value is always the same text; pretty printed where people and scripts read them (`--json`
/// reports, `result.json`, `ps --json`), one line where a program does (a QMP command, the records a supervisor
/// keeps in `state.json` and `stop-request.json`).
public enum JSONDocument {
    /// Pretty printed, keys sorted: a report.
    public static func prettyPrinted(_ value: some Encodable) throws -> Data {
        try encoder(formatting: [.prettyPrinted, .sortedKeys]).encode(value)
    }

    /// One line, keys sorted: a QMP command, a record.
    public static func compact(_ value: some Encodable) throws -> Data {
        try encoder(formatting: [.sortedKeys]).encode(value)
    }

    /// The document in `data` as a `T`; nil when it is not one (malformed, truncated, from another program, or with a
    /// value out of range), never a trap.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        try? JSONDecoder().decode(type, from: data)
    }

    private static func encoder(formatting: JSONEncoder.OutputFormatting) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        return encoder
    }
}
