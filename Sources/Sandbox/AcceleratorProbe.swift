import Foundation
import KsandFoundation
import QEMU

/// Decides whether KVM can actually run a kernel here, not merely whether /dev/kvm exists.
///
/// Some hosts expose a /dev/kvm that cannot run a stock kernel (QEMU aborts, or the guest prints nothing for
/// minutes). The probe boots the real kernel under KVM with no initramfs and waits briefly for its first console
/// line. The verdict is cached per host boot, QEMU binary and kernel file, so only the first run pays for it.
public struct AcceleratorProbe: Sendable {
    public var qemuPath: String
    public var cache: CacheDirectory
    /// How long a working KVM may take to print the kernel's first line.
    public var timeout: Duration

    public init(qemuPath: String, cache: CacheDirectory, timeout: Duration = .seconds(3)) {
        self.qemuPath = qemuPath
        self.cache = cache
        self.timeout = timeout
    }

    public struct Verdict: Sendable, Equatable {
        public var accelerator: QEMUCommandLine.Accelerator
        /// Why KVM was not chosen, when it was not.
        public var reason: String?
    }

    /// Resolves `auto`; `kvm` and `tcg` are taken as given.
    public func resolve(_ choice: SandboxSpec.AcceleratorChoice, bootImage: String, kernelIdentity: String) async -> Verdict {
        switch choice {
        case .kvm: return Verdict(accelerator: .kvm, reason: nil)
        case .tcg: return Verdict(accelerator: .tcg, reason: nil)
        case .auto: break
        }
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return Verdict(accelerator: .tcg, reason: "/dev/kvm: \(errnoText(errno))") }
        close(fd)
        let bootID = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "unknown"
        var qemuStat = stat()
        stat(qemuPath, &qemuStat)
        let key = stableHash("\(bootID.trimmingCharacters(in: .whitespacesAndNewlines))|\(qemuPath)|\(qemuStat.st_mtim.tv_sec)|\(kernelIdentity)")
        let verdictFile = (try? cache.subdirectory("accel")).map { $0 + "/" + key }
        if let verdictFile, let cached = try? String(contentsOfFile: verdictFile, encoding: .utf8) {
            if cached == "kvm" { return Verdict(accelerator: .kvm, reason: nil) }
            return Verdict(accelerator: .tcg, reason: cached.hasPrefix("tcg ") ? String(cached.dropFirst(4)) : cached)
        }
        let verdict = await probe(bootImage: bootImage)
        if let verdictFile {
            let text = verdict.accelerator == .kvm ? "kvm" : "tcg " + (verdict.reason ?? "")
            try? AtomicFile.write(Array(text.utf8), to: verdictFile)
        }
        return verdict
    }

    /// Boots the kernel under KVM and waits for its first console line (``KVMBootCheck``).
    func probe(bootImage: String) async -> Verdict {
        let check = await KVMBootCheck(qemuPath: qemuPath, timeout: timeout).run(bootImage: bootImage)
        return Verdict(accelerator: check.booted ? .kvm : .tcg, reason: check.failure)
    }
}
