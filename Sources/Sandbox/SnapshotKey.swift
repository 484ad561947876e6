import ContentHash
import Foundation
import KsandFoundation
import QEMU

/// What a snapshot of a booted guest is valid for: exactly one QEMU binary, kernel image, initramfs, machine, memory
/// size, CPU count, accelerator, kernel command line and set of 9p devices. Any change to one of them is another key,
/// so another snapshot; a snapshot is never restored into a machine that differs from the one that made it.
///
/// Files are named by path and identity (device, inode, size, modification time): replacing the QEMU binary or
/// rebuilding the kernel changes the identity. Host-side paths that QEMU does not migrate (the sockets, the `--rw`
/// directories) are not part of the key; the 9p devices' tags and modes are, since the device set must match.
public struct SnapshotKey: Codable, Equatable, Sendable {
    /// Raised when what a snapshot holds, or how it is made, changes: older snapshots then stop matching.
    public static let currentFormat = 2

    /// A file by path and identity.
    public struct File: Codable, Equatable, Sendable {
        public var path: String
        public var identity: String

        public init(path: String, identity: String) {
            self.path = path
            self.identity = identity
        }

        /// `path`'s identity now; nil when it cannot be read.
        public static func of(_ path: String) -> File? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return File(path: path, identity: KernelImage.identity(of: info))
        }
    }

    public var format: Int
    public var qemu: File
    public var kernel: File
    public var initramfs: File
    public var machine: QEMUCommandLine.Machine
    public var accelerator: QEMUCommandLine.Accelerator
    public var memoryMiB: Int
    public var cpus: Int
    public var kernelCommandLine: String
    /// The 9p devices in order, as `TAG:ro` or `TAG:rw`.
    public var shares: [String]
    public var channelPort: String

    /// The key's digest: the snapshot's directory name in the cache.
    public var digest: String {
        var hasher = ContentHasher()
        hasher.update((try? JSONDocument.compact(self)) ?? Data())
        return String(hasher.finalize().prefix(32))
    }

    /// A short description for listings: machine, accelerator, memory, CPUs and the kernel's file name.
    public var summary: String {
        "\(machine.rawValue)/\(accelerator.rawValue) \(memoryMiB) MiB \(cpus) CPU, \((kernel.path as NSString).lastPathComponent), \(shares.count) 9p device\(shares.count == 1 ? "" : "s")"
    }
}

extension PreparedSandbox {
    /// The key of the snapshot this sandbox would restore from; nil when one of its files cannot be read, or when it
    /// has a network.
    public var snapshotKey: SnapshotKey? {
        // A networked machine boots: its user network's state (forwarded ports, connections) is not in any key.
        guard spec.network == nil else { return nil }
        let line = commandLine(runDirectory: "")
        guard let qemu = SnapshotKey.File.of(qemuPath), let kernel = SnapshotKey.File.of(bootImage),
              let initramfs = SnapshotKey.File.of(initramfs) else { return nil }
        return SnapshotKey(
            format: SnapshotKey.currentFormat, qemu: qemu, kernel: kernel, initramfs: initramfs, machine: machine,
            accelerator: accelerator, memoryMiB: spec.memoryMiB, cpus: spec.cpus,
            kernelCommandLine: line.kernelArguments.joined(separator: " "),
            shares: line.shares.map { $0.tag + ($0.readOnly ? ":ro" : ":rw") }, channelPort: line.channelPortName)
    }
}
