import Foundation

/// Progress of a kbuild run, read from its quiet-mode output lines (`  CC      kernel/fork.o`).
///
/// Each step line (compile, assemble, link, generate) counts as one; the total is an estimate (from the previous
/// build in the same build directory, else from the number of built-in symbols), so the bar never claims more
/// than 99 % until make has finished.
public struct BuildProgress: Sendable, Equatable {
    public var done = 0
    public var estimatedTotal: Int
    public var elapsed: Duration = .zero

    public init(estimatedTotal: Int) { self.estimatedTotal = max(1, estimatedTotal) }

    /// Whether `line` is one kbuild step (an object built); counts it if so.
    @discardableResult
    public mutating func consume(_ line: Substring) -> Bool {
        guard BuildProgress.isStep(line) else { return false }
        done += 1
        return true
    }

    /// A kbuild quiet-mode step: two spaces, an upper-case tag (`CC`, `LD`, `HOSTCC`, `CC [M]`…), spaces, a target.
    static func isStep(_ line: Substring) -> Bool {
        guard line.hasPrefix("  ") else { return false }
        let rest = line.dropFirst(2)
        let tag = rest.prefix { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
        guard (2...10).contains(tag.count), tag.first?.isUppercase == true else { return false }
        let afterTag = rest.dropFirst(tag.count)
        return afterTag.first == " " && !afterTag.drop(while: { $0 == " " }).isEmpty
    }

    /// Fraction done, capped at 0.99 while running.
    public var fraction: Double { min(0.99, Double(done) / Double(estimatedTotal)) }

    /// Estimated time left from the rate so far; nil until a few steps are done.
    public var remaining: Duration? {
        guard done >= 20, fraction > 0 else { return nil }
        let seconds = elapsed / .seconds(1) / fraction * (1 - fraction)
        return .milliseconds(Int(seconds * 1000))
    }

    /// `[##########..........]  812/~2100 steps  3m12s elapsed, about 4m40s left`, `width` characters of bar.
    public func bar(width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "[\(bar)] \(line)"
    }

    /// `812/~2100 steps (38%), 3m12s elapsed, about 4m40s left`: the line printed off a terminal.
    public var line: String {
        var text = "\(done)/~\(estimatedTotal) steps (\(Int(fraction * 100))%), \(BuildProgress.clock(elapsed)) elapsed"
        if let remaining { text += ", about \(BuildProgress.clock(remaining)) left" }
        return text
    }

    static func clock(_ duration: Duration) -> String {
        let total = Int((duration / .seconds(1)).rounded())
        return total >= 60 ? "\(total / 60)m\(String(format: "%02d", total % 60))s" : "\(total)s"
    }

    /// The first estimate for a build directory with no previous build: about three steps per built-in symbol,
    /// as measured on the tinyconfig-based sandbox kernel (618 symbols `y`, 1,777 steps).
    public static func estimate(builtInSymbols: Int) -> Int { max(300, builtInSymbols * 29 / 10) }
}
