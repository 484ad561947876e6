import KsandFoundation
/// A host-side problem that keeps a sandbox from starting. Each says what failed, on what input, and what to do.
public enum SandboxError: Error, CustomStringConvertible, Sendable {
    case noDefaultKernel(searched: String)
    case kernelUnreadable(path: String, reason: String)
    case notABzImage(path: String)
    case modulesMissing(release: String, searched: String)
    case initMissing(searched: [String])
    case qemuMissing(name: String)
    case directoryMissing(option: String, path: String)
    case invalidOption(String)
    case io(what: String, path: String, errno: Int32)
    case qemuFailed(status: String, stderr: String)
    case initramfs(String)
    case kernelExtraction(path: String, reason: String)
    /// A directory ksand keeps sockets or bootable files in is not the caller's own (see ``OwnedDirectory``).
    case unsafeDirectory(path: String, role: String, problem: String, fix: String)
    /// A sandbox name that is not a file name (``SandboxRegistry/isValidName(_:)``).
    case invalidSandboxName(String)
    /// A state directory in the registry that ksand did not make (no marker, not the caller's, a link).
    case notASandboxEntry(path: String, reason: String)
    /// The backend could not start or reach the VM (a libvirt connection refused, a domain that did not start).
    case backendFailed(backend: String, reason: String)
    /// A start from a snapshot could not load it (the runner then boots cold).
    case snapshotRestoreFailed(String)

    public var description: String {
        switch self {
        case .noDefaultKernel(let searched):
            return "no kernel found in \(searched). Install one (`apt-get install linux-image-amd64`), "
                + "build one with `ksand kernel build`, or pass --kernel PATH to a bzImage."
        case .kernelUnreadable(let path, let reason):
            return "cannot read kernel \(path): \(reason). Pass --kernel PATH to a readable bzImage."
        case .notABzImage(let path):
            return "\(path) is not an x86 bzImage (no boot-protocol header). Pass the bzImage "
                + "(arch/x86/boot/bzImage or /boot/vmlinuz-*), not vmlinux or a compressed file."
        case .modulesMissing(let release, let searched):
            return "kernel \(release) is modular but its modules are not in \(searched). Install the matching "
                + "linux-image package, or use a kernel with virtio, 9p and overlayfs built in (`ksand kernel build`)."
        case .initMissing(let searched):
            return "the guest init (ksand-init) was not found; looked in: \(searched.joined(separator: ", ")). "
                + "Build it with `swift build --product ksand-init`, or set KSAND_INIT to its path."
        case .qemuMissing(let name):
            return "\(name) not found in PATH. Install it with `apt-get install qemu-system-x86`, or pass --qemu PATH."
        case .directoryMissing(let option, let path):
            return "\(option) \(path): no such directory on the host. Create it first or fix the path."
        case .invalidOption(let message):
            return message
        case .io(let what, let path, let errno):
            return "\(what) \(path): \(errnoText(errno))"
        case .qemuFailed(let status, let stderr):
            return "QEMU failed to start (\(status)): \(stderr)"
        case .initramfs(let message):
            return "initramfs: \(message)"
        case .kernelExtraction(let path, let reason):
            return "cannot unpack the kernel in \(path) for direct boot: \(reason). Retry with --no-direct-boot."
        case .unsafeDirectory(let path, let role, let problem, let fix):
            return "refusing the \(role) \(path): \(problem). To fix it, \(fix)."
        case .invalidSandboxName(let name):
            return "\(name) is not a sandbox name: " + SandboxRegistry.nameRule
        case .notASandboxEntry(let path, let reason):
            return "\(path) was not made by ksand (\(reason)), so ksand leaves it alone; remove it yourself or choose another --name"
        case .snapshotRestoreFailed(let reason):
            return "could not start from the snapshot: \(reason)"
        case .backendFailed(let backend, let reason):
            return "the \(backend) backend could not run the sandbox: \(reason)"
        }
    }
}
