/// Which console lines a run keeps in memory.
///
/// A guest may print without end (a flood is one way a hostile guest tries to grow the host), so the host keeps
/// what the timeline, the blame and error messages need, within fixed bounds: every line from the start up to
/// ``Limits/headLines`` (the whole boot, even with `initcall_debug`), after that the lines the timeline recognises
/// (markers, panic, power-off; up to ``Limits/eventLines``), and always the most recent ``Limits/tailLines``.
/// A line is at most ``ConsoleLine/maxBytes``, so memory stays under about
/// `(headLines + eventLines + 2 × tailLines) × 1 KiB` whatever the guest does.
public struct ConsoleRetention: Sendable {
    public struct Limits: Sendable, Equatable {
        public var headLines: Int
        public var eventLines: Int
        public var tailLines: Int

        public init(headLines: Int = 10_000, eventLines: Int = 1_000, tailLines: Int = 2_000) {
            self.headLines = max(0, headLines)
            self.eventLines = max(0, eventLines)
            self.tailLines = max(1, tailLines)
        }
    }

    public let limits: Limits
    private var head: [ConsoleLine] = []
    /// Recognised lines that fell out of the tail.
    private var events: [ConsoleLine] = []
    /// The most recent lines, each with whether the timeline recognises it (so that no line is recognised twice);
    /// holds up to twice the limit so that trimming is amortised.
    private var tail: [(line: ConsoleLine, isEvent: Bool)] = []
    /// How many lines were appended in all.
    public private(set) var received = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Keeps `line` if it is among what is kept; returns the event it is, if any (so callers recognise once).
    @discardableResult
    public mutating func append(_ line: ConsoleLine) -> BootEvent? {
        let event = BootEvent.recognise(line.text)
        defer { received += 1 }
        if head.count < limits.headLines {
            head.append(line)
            return event
        }
        tail.append((line, event != nil))
        if tail.count >= 2 * limits.tailLines {
            let leaving = tail.count - limits.tailLines
            keepEvents(among: tail[..<leaving], into: &events)
            tail.removeFirst(leaving)
        }
        return event
    }

    /// The kept lines, in the order they arrived.
    public var lines: [ConsoleLine] {
        let recent = tail.suffix(limits.tailLines)
        var earlierEvents = events
        keepEvents(among: tail.prefix(tail.count - recent.count), into: &earlierEvents)
        return head + earlierEvents + recent.map(\.line)
    }

    /// How many lines were not kept (it assembles ``lines``: ask once, at the end).
    public var dropped: Int { received - lines.count }

    private func keepEvents(among leaving: ArraySlice<(line: ConsoleLine, isEvent: Bool)>, into kept: inout [ConsoleLine]) {
        for entry in leaving where entry.isEvent && kept.count < limits.eventLines {
            kept.append(entry.line)
        }
    }
}
