/// Renders a timeline as an aligned text table, one phase per line, milliseconds.
public enum TimelineTable {
    public static func render(_ timeline: Timeline) -> String {
        // A booted run has no restore phase; a restored one has no vmm and kernel phases.
        let shown = Timeline.Phase.allCases.filter { timeline.start == .snapshot ? ($0 != .vmm && $0 != .kernel) : $0 != .restore }
        var rows = shown.map { phase in
            let name = phase.rawValue.padding(toLength: 9)
            guard let seconds = timeline.phases[phase] else { return "  \(name)        -" }
            let ms = String(Int((seconds * 1000).rounded()))
            return "  \(name) \(String(repeating: " ", count: max(0, 7 - ms.count)))\(ms) ms"
        }
        if let unaccounted = timeline.unaccounted {
            let ms = Int((unaccounted * 1000).rounded())
            rows.append("  (the guest clock saw \(abs(ms)) ms \(ms >= 0 ? "less" : "more") than the host's total)")
        }
        return rows.joined(separator: "\n")
    }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
