import Foundation
import Subprocess
import SystemPackage

/// Whether QEMU can boot a kernel under KVM here: the kernel is booted with no initramfs, and KVM works if it
/// prints `Linux version` within the timeout. Some hosts expose a /dev/kvm that cannot run a stock kernel (QEMU
/// aborts, or the guest prints nothing for minutes), so the device's presence alone decides nothing.
public struct KVMBootCheck: Sendable {
    public var qemuPath: String
    /// How long a working KVM may take to print the kernel's first line.
    public var timeout: Duration

    public init(qemuPath: String, timeout: Duration) {
        self.qemuPath = qemuPath
        self.timeout = timeout
    }

    public struct Outcome: Sendable, Equatable {
        /// Why the kernel did not boot under KVM; nil when it did.
        public var failure: String?
        public var booted: Bool { failure == nil }
    }

    /// Boots `bootImage` under KVM and waits for its first console line.
    public func run(bootImage: String) async -> Outcome {
        let arguments = [
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-machine", "q35", "-accel", "kvm",
            "-cpu", "host", "-m", "128M", "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
            "-kernel", bootImage, "-append", "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1",
        ]
        let timeout = self.timeout
        var options = PlatformOptions()
        options.processGroupID = 0
        do {
            let result = try await Subprocess.run(
                .path(FilePath(qemuPath)), arguments: Arguments(arguments), platformOptions: options,
                input: .none, output: .sequence, error: .string(limit: 64 * 1024)
            ) { execution -> Bool in
                let pid = execution.processIdentifier.value
                let watchdog = Task {
                    try await Task.sleep(for: timeout)
                    kill(pid, SIGKILL)
                }
                defer { watchdog.cancel() }
                var seen: [UInt8] = []
                for try await chunk in execution.standardOutput {
                    chunk.withUnsafeBytes { seen += $0 }
                    if seen.count > 0 && String(decoding: seen, as: UTF8.self).contains("Linux version") {
                        kill(pid, SIGKILL)
                        return true
                    }
                }
                return false
            }
            if result.closureResult { return Outcome(failure: nil) }
            let stderr = result.standardError.split(separator: "\n").first.map(String.init) ?? ""
            if case .exited = result.terminationStatus, !stderr.isEmpty {
                return Outcome(failure: "QEMU failed under KVM: \(stderr)")
            }
            if !stderr.isEmpty && !stderr.contains("terminating on signal") {
                return Outcome(failure: "QEMU failed under KVM: \(stderr)")
            }
            return Outcome(failure: "the kernel printed nothing within \(timeout) under KVM")
        } catch {
            return Outcome(failure: "could not run \(qemuPath) for the KVM probe: \(error)")
        }
    }
}
