import Foundation
import KernelConfig
import SystemPackage

/// A kernel to boot: the bzImage, what it is, and where its modules and config live.
public struct KernelImage: Sendable {
    /// The bzImage on the host.
    public var path: String
    public var header: BzImageHeader
    /// `uname -r` of this kernel.
    public var release: String { header.release }
    /// `/lib/modules/<release>` when it exists (a modular kernel needs it to get virtio, 9p and overlayfs).
    public var modulesDirectory: String?
    /// The kernel's .config: `/boot/config-<release>`, or `.config`/`config` beside the image.
    public var config: KernelConfiguration?
    /// Identifies the file's current contents cheaply (device, inode, size, mtime): a cache key part.
    public var fileIdentity: String

    /// A file's identity as cache keys use it: device, inode, size and modification time.
    static func identity(of info: stat) -> String {
        "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// Inspects the bzImage at `path`.
    public static func open(_ path: String, modulesRoot: String = "/lib/modules") throws(SandboxError) -> KernelImage {
        let bytes: [UInt8]
        let identity: String
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly)
            defer { try? fd.close() }
            var st = stat()
            guard fstat(fd.rawValue, &st) == 0 else { throw Errno(rawValue: errno) }
            guard (st.st_mode & S_IFMT) == S_IFREG else {
                throw SandboxError.kernelUnreadable(path: path, reason: "not a regular file")
            }
            identity = KernelImage.identity(of: st)
            bytes = try [UInt8](unsafeUninitializedCapacity: 64 * 1024) { buffer, count in
                count = try fd.read(into: UnsafeMutableRawBufferPointer(buffer))
            }
        } catch let error as SandboxError {
            throw error
        } catch let error as Errno {
            throw .kernelUnreadable(path: path, reason: error.description)
        } catch {
            throw .kernelUnreadable(path: path, reason: "\(error)")
        }
        guard let header = BzImageHeader(bytes: bytes) else { throw .notABzImage(path: path) }
        var image = KernelImage(path: path, header: header, modulesDirectory: nil, config: nil, fileIdentity: identity)
        let modules = modulesRoot + "/" + header.release
        if FileManager.default.fileExists(atPath: modules + "/modules.dep") { image.modulesDirectory = modules }
        let directory = (path as NSString).deletingLastPathComponent
        let candidates = [
            "/boot/config-" + header.release, directory + "/config-" + header.release,
            directory + "/.config", directory + "/config", modules + "/build/.config",
        ]
        // The first candidate that reads and parses as a .config: a file that only shares the name is passed over.
        for candidate in candidates {
            if let text = try? String(contentsOfFile: candidate, encoding: .utf8),
               let config = try? KernelConfiguration(parsing: text, origin: candidate) {
                image.config = config
                break
            }
        }
        return image
    }

    /// The kernel ksand boots when none is named: the newest `vmlinuz-*` in `/boot` (the host's own distro kernel).
    public static func defaultKernel(bootDirectory: String = "/boot") throws(SandboxError) -> KernelImage {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: bootDirectory)) ?? []
        let kernels = names.filter { $0.hasPrefix("vmlinuz-") }.sorted {
            KernelRelease.precedes(String($0.dropFirst(8)), String($1.dropFirst(8)))
        }
        guard let newest = kernels.last else { throw .noDefaultKernel(searched: bootDirectory + "/vmlinuz-*") }
        return try open(bootDirectory + "/" + newest)
    }
}

/// Orders kernel releases the way people read them: 6.1.0-9 before 6.1.0-56, 5.10 before 6.1.
enum KernelRelease {
    static func precedes(_ a: String, _ b: String) -> Bool {
        let split: (String) -> [Substring] = { $0.split(whereSeparator: { ".-+_~".contains($0) }) }
        for (x, y) in zip(split(a), split(b)) where x != y {
            if let nx = Int(x), let ny = Int(y) { return nx < ny }
            return x < y
        }
        return split(a).count < split(b).count
    }
}

extension KernelImage {
    /// ``open(_:modulesRoot:)`` with an untyped throw, for use in `map` and other generic contexts.
    public static func openLoosely(_ path: String) throws -> KernelImage { try open(path) }
}
