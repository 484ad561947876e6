import CGuestSyscalls
import Glibc

/// The machine's ACPI power button, as the evdev devices that report KEY_POWER.
///
/// Linux turns a press (QMP `system_powerdown` on q35 or an ACPI microvm) into a key event and nothing more;
/// shutting down is left to userspace. The init opens the devices before the command starts, so a press that
/// arrives at any point after that waits in the device's queue until the relay reads it.
struct PowerButton {
    /// Non-blocking descriptors, one per device with a power key (ACPI may register both a fixed and a
    /// control-method button).
    private(set) var descriptors: [Int32] = []

    /// Opens every /dev/input/event* device with a power key; none when the kernel has no ACPI button or evdev.
    static func open() -> PowerButton {
        var button = PowerButton()
        guard let directory = opendir("/dev/input") else { return button }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("event") else { continue }
            let fd = Glibc.open("/dev/input/" + name, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if ksand_input_has_power_key(fd) == 1 {
                button.descriptors.append(fd)
            } else {
                close(fd)
            }
        }
        return button
    }

    var isPresent: Bool { !descriptors.isEmpty }

    /// Reads what the device at `fd` has queued; true if it held a press. A failed device is closed and dropped.
    mutating func pressed(on fd: Int32) -> Bool {
        switch ksand_input_read_power_press(fd) {
        case 1: return true
        case 0: return false
        default:
            close(fd)
            descriptors.removeAll { $0 == fd }
            return false
        }
    }
}
