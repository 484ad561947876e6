/// Something the console parser recognised in a line.
public enum BootEvent: Equatable, Sendable {
    /// The kernel's first line (`Linux version …`).
    case kernelStart
    /// The kernel is about to run the initramfs' /init (`Run /init as init process`).
    case runInit
    /// A marker the ksand init wrote through /dev/kmsg (`ksand: init-start`, …), with its detail.
    case marker(name: String, detail: String)
    /// The kernel announces power-off or restart (`reboot: Power down`, `reboot: Restarting system`).
    case powerOff
    /// `Kernel panic - not syncing: …`, with the reason.
    case panic(reason: String)

    /// Recognises the event a console line carries, if any.
    public static func recognise(_ text: String) -> BootEvent? {
        if let markerText = text.dropPrefix("ksand: ") {
            let parts = markerText.split(separator: " ", maxSplits: 1)
            guard let name = parts.first else { return nil }
            return .marker(name: String(name), detail: parts.count > 1 ? String(parts[1]) : "")
        }
        if text.hasPrefix("Linux version ") { return .kernelStart }
        if text.hasPrefix("Run /init as init process") || text.hasPrefix("Run /init as init") { return .runInit }
        if text == "reboot: Power down" || text == "reboot: Restarting system" || text == "reboot: System halted" {
            return .powerOff
        }
        if let reason = text.dropPrefix("Kernel panic - not syncing: ") { return .panic(reason: reason) }
        return nil
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
