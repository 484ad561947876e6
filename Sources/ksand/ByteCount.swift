import ArgumentParser

/// A size on the command line: a number of bytes, or with a binary suffix (`512K`, `64M`, `1G`; `KiB` etc. too).
struct ByteCount: ExpressibleByArgument, Equatable {
    var bytes: UInt64

    init(bytes: UInt64) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.uppercased()
        let units: [(String, UInt64)] = [("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        var number = Substring(text), scale: UInt64 = 1
        if let (suffix, value) = units.first(where: { text.hasSuffix($0.0) }) {
            number = text.dropLast(suffix.count)
            scale = value
        }
        guard let count = UInt64(number), case let (bytes, overflow) = count.multipliedReportingOverflow(by: scale), !overflow else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20)M" : "\(bytes)"
    }
}
