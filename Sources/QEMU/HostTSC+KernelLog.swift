import Foundation

extension HostTSC {
    /// What the host kernel's log says it calibrated the TSC to (arch/x86/kernel/tsc.c). Fed lines as `dmesg` prints
    /// them or as /dev/kmsg records; lines about anything else are ignored.
    struct KernelLogCalibration: Equatable {
        /// `tsc: Refined TSC clocksource calibration: N MHz`: the rate the kernel settled on, a second or so into
        /// boot, against the HPET or PM timer.
        private(set) var refined: Int?
        /// `tsc: Detected N MHz TSC`: printed only when it differs from the processor's frequency.
        private(set) var detectedTSC: Int?
        /// `tsc: Detected N MHz processor`: the TSC's rate too when no `MHz TSC` line follows.
        private(set) var detectedProcessor: Int?

        /// The TSC rate in kHz: the refined calibration, else the detected TSC rate, else the processor's.
        var kilohertz: Int? { refined ?? detectedTSC ?? detectedProcessor }

        mutating func read(_ line: String) {
            guard let start = line.range(of: "tsc: ") else { return }
            let message = line[start.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
            if let value = Self.megahertz(in: message, after: "Refined TSC clocksource calibration: ", before: " MHz") {
                refined = value
            } else if let value = Self.megahertz(in: message, after: "Detected ", before: " MHz TSC") {
                detectedTSC = value
            } else if let value = Self.megahertz(in: message, after: "Detected ", before: " MHz processor") {
                detectedProcessor = value
            }
        }

        /// The kHz in `message` when it is exactly `prefix`, a `%lu.%03lu` number of MHz, then `suffix`.
        static func megahertz(in message: String, after prefix: String, before suffix: String) -> Int? {
            guard message.hasPrefix(prefix), message.hasSuffix(suffix), message.count > prefix.count + suffix.count else { return nil }
            let number = message.dropFirst(prefix.count).dropLast(suffix.count)
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].count == 3, let whole = Int(parts[0]), let thousandths = Int(parts[1]),
                  parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
            else { return nil }
            return whole * 1000 + thousandths
        }
    }

    /// The TSC rate the host kernel calibrated, from /dev/kmsg; nil when the log cannot be read (it needs root or
    /// CAP_SYSLOG where `kernel.dmesg_restrict` is set) or no longer holds the boot's lines.
    static func kernelLogKilohertz(path: String = "/dev/kmsg") -> Int? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var calibration = KernelLogCalibration()
        // One read returns one record, "PRIORITY,SEQUENCE,MICROSECONDS,FLAGS;MESSAGE\n" and continuation lines.
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while calibration.refined == nil {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EPIPE { continue }  // the oldest records were overwritten meanwhile
            guard count > 0 else { break }  // EAGAIN: the end of the log
            let record = buffer[..<count]
            guard let semicolon = record.firstIndex(of: UInt8(ascii: ";")) else { continue }
            let message = record[(semicolon + 1)...].prefix { $0 != UInt8(ascii: "\n") }
            calibration.read(String(decoding: message, as: UTF8.self))
        }
        return calibration.kilohertz
    }
}
