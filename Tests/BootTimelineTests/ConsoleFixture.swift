import BootTimeline
import Foundation

/// A console log recorded from a real boot, in the format `ksand run --console-log F --console-timestamps` writes:
/// each line is the host arrival time in seconds, a space, and the raw console line. `# exited S` (when the VMM
/// process was gone, from the same run's `--json` report) is appended by hand when a fixture is recorded.
struct ConsoleFixture {
    var lines: [ConsoleLine]
    var exitedAt: Double?

    init(named name: String) throws {
        let url = try require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
        try self.init(bytes: Array(Data(contentsOf: url)))
    }

    init(bytes: [UInt8]) throws {
        lines = []
        for raw in bytes.split(separator: 0x0a, omittingEmptySubsequences: false) where !raw.isEmpty {
            let text = String(decoding: raw.prefix(40), as: UTF8.self)
            if text.hasPrefix("# exited ") {
                exitedAt = Double(text.dropFirst(9).trimmingCharacters(in: .whitespaces))
                continue
            }
            guard let space = raw.dropFirst(2).firstIndex(of: 0x20),
                  let seconds = Double(String(decoding: raw[raw.startIndex..<space], as: UTF8.self).trimmingCharacters(in: .whitespaces))
            else { continue }
            lines.append(ConsoleLine(raw: Array(raw[(space + 1)...]), hostSeconds: seconds))
        }
    }

    static func rawBytes(named name: String) throws -> [UInt8] {
        let url = try require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
        return Array(try Data(contentsOf: url))
    }
}

func require<T>(_ value: T?) throws -> T {
    guard let value else { throw FixtureError.missing }
    return value
}

enum FixtureError: Error { case missing }
