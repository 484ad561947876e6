/// The phases of one sandbox run, computed from its console lines and two host instants.
///
/// Phases (seconds): `vmm` spawn → kernel start; `kernel` → init starts; `init` → command starts; `command` →
/// command exits; `shutdown` → the kernel's power-off line; `teardown` → VMM process gone; `total` spawn → gone.
/// A guest restored from a snapshot has no `vmm` and `kernel` phases but `restore`, spawn → the init's
/// `spec-received` line (the restored guest's first), and its `init` runs from there to the command's start.
/// Guest-side boundaries use the kernel's printk clock (the init's markers go through /dev/kmsg), host-side ones
/// the host's monotonic clock. The kernel's start on the host clock is estimated from the earliest printk
/// lines: arrival time minus printk time, minimised over the lines (serial output can only arrive late).
public struct Timeline: Equatable, Sendable {
    public enum Phase: String, CaseIterable, Sendable, Codable {
        case vmm, restore, kernel, `init`, command, shutdown, teardown, total
    }

    /// How the guest got to its init: booted, or restored from a snapshot of a boot.
    public enum Start: String, Sendable, Codable, CaseIterable {
        case cold, snapshot
    }

    public var start: Start = .cold

    /// Duration of each phase that could be measured, in seconds.
    public var phases: [Phase: Double]
    /// The panic reason, when the kernel panicked.
    public var panicReason: String?
    /// The exit status the init reported in its `command-exit` marker, if it did.
    public var markedExitStatus: Int?

    public init(phases: [Phase: Double] = [:], panicReason: String? = nil, markedExitStatus: Int? = nil) {
        self.phases = phases
        self.panicReason = panicReason
        self.markedExitStatus = markedExitStatus
    }

    /// The measured phases by name, in seconds, for JSON reports.
    public var phasesBySeconds: [String: Double] {
        Dictionary(uniqueKeysWithValues: phases.map { ($0.key.rawValue, $0.value) })
    }

    /// Boot as budgets see it: vmm + kernel + init (restore + init on a restored start), when all are known.
    public var boot: Double? {
        sum(of: Timeline.bootPhases(start))
    }

    /// The phases that make up the boot for a start kind.
    public static func bootPhases(_ start: Start) -> [Phase] {
        start == .snapshot ? [.restore, .`init`] : [.vmm, .kernel, .`init`]
    }

    /// The sum of `parts`, when every one was measured.
    public func sum(of parts: [Phase]) -> Double? {
        var sum = 0.0
        for part in parts {
            guard let seconds = phases[part] else { return nil }
            sum += seconds
        }
        return sum
    }

    /// The host's total minus the sum of the other phases, when all are known: time the guest's printk clock
    /// did not see. Under TCG the guest clock falls behind the host's (more so on a loaded host); showing the
    /// difference keeps the phases honest instead of silently not adding up.
    public var unaccounted: Double? {
        guard let total = phases[.total], let sum = sum(of: Timeline.bootPhases(start) + [.command, .shutdown, .teardown]) else { return nil }
        return total - sum
    }

    /// Computes the timeline. `exitedAtHostSeconds` is when the VMM process was seen gone (nil if still running).
    public static func compute(lines: [ConsoleLine], exitedAtHostSeconds: Double?, start: Start = .cold) -> Timeline {
        var kernelOriginOnHost: Double?
        var sawKernelStart = false
        var initStart: Double?, commandStart: Double?, commandExit: Double?, powerOff: Double?, powerOffHost: Double?
        var runInit: Double?
        var specReceived: (kernel: Double?, host: Double)?
        var timeline = Timeline()
        timeline.start = start
        for line in lines {
            if let k = line.kernelSeconds, k < 5 || kernelOriginOnHost == nil {
                // Only early lines sharpen the estimate; later ones would add drift, not precision.
                let origin = line.hostSeconds - k
                kernelOriginOnHost = min(kernelOriginOnHost ?? origin, origin)
            }
            guard let event = BootEvent.recognise(line.text) else { continue }
            switch event {
            case .kernelStart: sawKernelStart = true
            case .runInit: runInit = runInit ?? line.kernelSeconds
            case .marker(let name, let detail):
                switch name {
                case "init-start": initStart = initStart ?? line.kernelSeconds
                case "spec-received": specReceived = specReceived ?? (line.kernelSeconds, line.hostSeconds)
                case "command-start": commandStart = commandStart ?? line.kernelSeconds
                case "command-exit":
                    commandExit = commandExit ?? line.kernelSeconds
                    if let status = detail.dropPrefix("status=").flatMap({ Int($0) }) { timeline.markedExitStatus = status }
                default: break
                }
            case .powerOff:
                powerOff = powerOff ?? line.kernelSeconds
                powerOffHost = powerOffHost ?? line.hostSeconds
            case .panic(let reason):
                timeline.panicReason = timeline.panicReason ?? reason
                powerOffHost = powerOffHost ?? line.hostSeconds
            }
        }
        if start == .snapshot {
            // The guest's clock goes on from the moment of the snapshot: only the host's clock says what the start took.
            if let specReceived { timeline.phases[.restore] = specReceived.host }
            if let begins = specReceived?.kernel, let commandStart { timeline.phases[.`init`] = commandStart - begins }
        } else {
            if sawKernelStart || kernelOriginOnHost != nil, let origin = kernelOriginOnHost {
                timeline.phases[.vmm] = max(0, origin)
            }
            let initBegins = initStart ?? runInit
            if let initBegins { timeline.phases[.kernel] = initBegins }
            if let initBegins, let commandStart { timeline.phases[.`init`] = commandStart - initBegins }
        }
        if let commandStart, let commandExit { timeline.phases[.command] = commandExit - commandStart }
        if let commandExit, let powerOff { timeline.phases[.shutdown] = powerOff - commandExit }
        if let powerOffHost, let exited = exitedAtHostSeconds { timeline.phases[.teardown] = max(0, exited - powerOffHost) }
        if let exited = exitedAtHostSeconds { timeline.phases[.total] = exited }
        return timeline
    }
}
