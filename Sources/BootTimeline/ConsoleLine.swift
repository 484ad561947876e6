/// One line of the guest's serial console, as the host saw it.
public struct ConsoleLine: Equatable, Sendable {
    /// When the line arrived on the host, in seconds since the VMM was spawned (host monotonic clock).
    public var hostSeconds: Double
    /// The kernel's printk timestamp in seconds, when the line carries one (`[    1.234567] …`).
    public var kernelSeconds: Double?
    /// The text after the timestamp (or the whole line), without the line terminator.
    public var text: String

    public init(hostSeconds: Double, kernelSeconds: Double?, text: String) {
        self.hostSeconds = hostSeconds
        self.kernelSeconds = kernelSeconds
        self.text = text
    }

    /// The most of a line's bytes that is kept; the kernel's own lines are shorter (printk cuts a record at 1 KiB).
    public static let maxBytes = 1024

    /// Parses a raw console line. Bytes that are not UTF-8 are replaced; carriage returns and other C0 control
    /// characters (serial noise) are dropped, so a garbled line still yields its text, and what is left that a
    /// terminal would act on (DEL, C1 controls) is escaped (``PrintableText``). A line longer than
    /// ``maxBytes`` is cut there and ends in `…`.
    public init<C: BidirectionalCollection>(raw: C, hostSeconds: Double) where C.Element == UInt8 {
        var bytes = raw.prefix(ConsoleLine.maxBytes)
        while let last = bytes.last, last == 0x0a || last == 0x0d { bytes = bytes.dropLast() }
        let cleaned = bytes.filter { $0 >= 0x20 || $0 == 0x09 }
        let text = PrintableText.escape(String(decoding: cleaned, as: UTF8.self)) + (raw.count > ConsoleLine.maxBytes ? "…" : "")
        self.hostSeconds = hostSeconds
        if let (seconds, rest) = ConsoleLine.splitPrintkTimestamp(text) {
            self.kernelSeconds = seconds
            self.text = rest
        } else {
            self.kernelSeconds = nil
            self.text = text
        }
    }

    /// Splits `[    1.234567] text` into (1.234567, "text"); nil when the line has no printk timestamp.
    ///
    /// A timestamp is what the kernel prints (`%5lu.%06lu`): digits, a dot, digits; at most 11 digits of seconds
    /// (a 64-bit count of nanoseconds). Anything else a guest writes in brackets, `[1e300]` or `[nan.]`, is text.
    static func splitPrintkTimestamp(_ line: String) -> (Double, String)? {
        var line = line
        return line.withUTF8 { utf8 in splitPrintkTimestamp(utf8) }
    }

    /// The same on the line's UTF-8 bytes, read in place: this runs for every console line.
    private static func splitPrintkTimestamp(_ utf8: UnsafeBufferPointer<UInt8>) -> (Double, String)? {
        guard let open = utf8.prefix(3).firstIndex(of: UInt8(ascii: "[")),
              let close = utf8[open...].firstIndex(of: UInt8(ascii: "]")), close - open <= 20 else { return nil }
        var inner = utf8[(open + 1)..<close].drop { $0 == UInt8(ascii: " ") }
        while inner.last == UInt8(ascii: " ") { inner = inner.dropLast() }
        let isDigit = { (byte: UInt8) in (48...57).contains(byte) }
        guard let dot = inner.firstIndex(of: UInt8(ascii: ".")), (1...11).contains(dot - inner.startIndex),
              inner[..<dot].allSatisfy(isDigit), dot + 1 < inner.endIndex, inner[(dot + 1)...].allSatisfy(isDigit),
              let seconds = Double(String(decoding: inner, as: UTF8.self)) else { return nil }
        var restStart = close + 1
        if restStart < utf8.count && utf8[restStart] == UInt8(ascii: " ") { restStart += 1 }
        return (seconds, String(decoding: utf8[restStart...], as: UTF8.self))
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars = scalars.dropFirst() }
        while scalars.last == " " { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
