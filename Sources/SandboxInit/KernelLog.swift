import Glibc
import SandboxProtocol

/// The init's voice in the kernel log: markers and fatal errors go to /dev/kmsg, so they carry the kernel's own
/// printk timestamps and reach the serial console.
struct KernelLog {
    private(set) var fd: Int32 = -1

    /// Opens /dev/kmsg; without it lines go to the console the kernel gave the init as fd 2.
    mutating func open() {
        if fd < 0 { fd = Glibc.open("/dev/kmsg", O_WRONLY | O_CLOEXEC) }
    }

    /// Writes a marker line at level notice, which the default console log level shows.
    func marker(_ marker: GuestMarker, detail: String? = nil) {
        write(level: 5, marker.line(detail: detail))
    }

    /// Writes an error line at level err.
    func error(_ text: String) {
        write(level: 3, text)
    }

    private func write(level: Int, _ text: String) {
        // One write is one log record. Without /dev/kmsg (devtmpfs failed), the console on fd 2 still shows it.
        var line = fd >= 0 ? "<\(level)>" + text + "\n" : text + "\n"
        line.withUTF8 { buffer in _ = Glibc.write(fd >= 0 ? fd : 2, buffer.baseAddress, buffer.count) }
    }
}
