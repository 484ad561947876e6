import Testing
@testable import BootTimeline

@Suite struct ConsoleRetentionTests {
    private func line(_ text: String, _ second: Double) -> ConsoleLine { ConsoleLine(hostSeconds: second, kernelSeconds: second, text: text) }

    @Test func keepsTheHeadTheEventsAndTheTailOfAFlood() {
        var retention = ConsoleRetention(limits: .init(headLines: 3, eventLines: 2, tailLines: 4))
        for index in 0..<3 { retention.append(line("boot \(index)", Double(index))) }
        retention.append(line("ksand: command-start", 3))
        for index in 0..<10_000 { retention.append(line("flood \(index)", 4)) }
        retention.append(line("ksand: command-exit status=0", 5))
        for index in 0..<10 { retention.append(line("after \(index)", 6)) }
        let texts = retention.lines.map(\.text)
        #expect(texts == ["boot 0", "boot 1", "boot 2", "ksand: command-start", "ksand: command-exit status=0",
                          "after 6", "after 7", "after 8", "after 9"])
        #expect(retention.received == 10_015)
        #expect(retention.dropped == 10_015 - 9)
    }

    @Test func whatIsKeptIsBoundedWhateverArrives() {
        var retention = ConsoleRetention(limits: .init(headLines: 10, eventLines: 5, tailLines: 20))
        for index in 0..<50_000 { retention.append(line(index % 2 == 0 ? "ksand: command-exit status=\(index)" : "noise", 1)) }
        #expect(retention.lines.count <= 10 + 5 + 20)
    }

    @Test func aTimelineFromKeptLinesMatchesTheWholeOne() throws {
        // The boot fits in the head; the lines after it are kept only as far as the timeline needs them.
        let fixture = try ConsoleFixture(named: "sandbox-true.log")
        var retention = ConsoleRetention(limits: .init(headLines: 120, eventLines: 50, tailLines: 5))
        for line in fixture.lines { retention.append(line) }
        #expect(retention.dropped > 0)
        #expect(Timeline.compute(lines: retention.lines, exitedAtHostSeconds: fixture.exitedAt)
                == Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt))
    }

    @Test func consoleLinesAreShortAndCannotDriveATerminal() {
        let long = ConsoleLine(raw: Array(repeating: UInt8(ascii: "a"), count: 5000) + [0x0a], hostSeconds: 0)
        #expect(long.text.utf8.count <= ConsoleLine.maxBytes + 3)
        #expect(long.text.hasSuffix("…"))
        let hostile = ConsoleLine(raw: Array("[    1.000000] \u{1b}]0;owned\u{07}x\u{9b}2Jy\u{7f}\n".utf8), hostSeconds: 0)
        #expect(hostile.kernelSeconds == 1)
        #expect(!hostile.text.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
        #expect(hostile.text == "]0;ownedx\\u{9b}2Jy\\x7f")
    }

    @Test func printableTextEscapesWhatATerminalActsOn() {
        #expect(PrintableText.line(Array("ok\ttab\n".utf8)) == "ok\ttab")
        #expect(PrintableText.line(Array("\u{1b}[31mred".utf8)) == "\\x1b[31mred")
        #expect(PrintableText.line([0xff, 0x41]) == "\u{fffd}A")
        #expect(PrintableText.line(Array("abcdef".utf8), limit: 3) == "abc…")
    }
}
