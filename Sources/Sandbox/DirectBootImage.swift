import Foundation
import KernelConfig
import KsandFoundation
import StreamDecompression

/// The kernel unpacked once into an ELF with a PVH entry point, which QEMU starts directly.
///
/// A bzImage first decompresses itself inside the guest; under TCG that alone takes seconds for a distro
/// kernel. Unpacking it once on the host (cached by the bzImage's file identity) and booting the ELF through
/// the PVH entry point skips that work on every run. Kernels without PVH (CONFIG_PVH), and payloads that do not
/// unpack to exactly the size the build recorded, keep booting as bzImage.
public enum DirectBootImage {
    /// The cached ELF for `kernel`, unpacking it on first use; nil when the kernel cannot be booted this way.
    public static func prepare(_ kernel: KernelImage, cache: CacheDirectory) throws(SandboxError) -> String? {
        if let config = kernel.config, !config.isBuiltIn("CONFIG_PVH") { return nil }
        let directory = try cache.subdirectory("vmlinux")
        let target = directory + "/" + stableHash(kernel.fileIdentity + "|" + kernel.path) + ".elf"
        let verdict = target + ".no-pvh"
        if FileManager.default.fileExists(atPath: target) { return target }
        if FileManager.default.fileExists(atPath: verdict) { return nil }
        guard let data = FileManager.default.contents(atPath: kernel.path) else {
            throw .kernelUnreadable(path: kernel.path, reason: errnoText(errno))
        }
        let range = kernel.header.payloadRange
        guard range.lowerBound >= 0, range.upperBound <= data.count, !range.isEmpty else {
            throw .kernelExtraction(path: kernel.path, reason: "payload \(range) lies outside the \(data.count)-byte file")
        }
        guard let elf = unpack(data, range: range, path: kernel.path) else { return nil }
        guard ElfNotes.hasPVHEntry(elf) else {
            try? AtomicFile.write([], to: verdict)
            return nil
        }
        try AtomicFile.write(elf, to: target)
        return target
    }
}

extension DirectBootImage {
    /// Decompresses the payload and checks it against the size the kernel build recorded; nil when that fails,
    /// so the caller boots the bzImage instead.
    ///
    /// The last four bytes of every x86 payload are the uncompressed size (gzip's own trailer; `size_append` after
    /// the other formats). For the other formats they are not part of the stream and are cut off before decoding.
    static func unpack(_ data: Data, range: Range<Int>, path: String) -> [UInt8]? {
        guard range.count > 8 else { return nil }
        let expected = data[(range.upperBound - 4)..<range.upperBound].reversed().reduce(0) { $0 << 8 | Int($1) }
        let isGzip = data[range.lowerBound] == 0x1f && data[range.lowerBound + 1] == 0x8b
        let stream = isGzip ? range : range.lowerBound..<(range.upperBound - 4)
        var elf: [UInt8] = []
        elf.reserveCapacity(expected)
        do {
            _ = try data.withUnsafeBytes { raw in
                try StreamDecompressor.decompress(
                    UnsafeRawBufferPointer(rebasing: raw[stream]), what: "the kernel payload of \(path)", allowsTrailingData: false
                ) {
                    elf.append(contentsOf: $0)
                }
            }
        } catch {
            return nil
        }
        return elf.count & 0xffff_ffff == expected ? elf : nil
    }
}

/// Reads ELF64 note sections far enough to find the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 18).
enum ElfNotes {
    static func hasPVHEntry(_ elf: [UInt8]) -> Bool {
        func u16(_ at: Int) -> Int { at + 2 <= elf.count ? Int(elf[at]) | Int(elf[at + 1]) << 8 : 0 }
        func u32(_ at: Int) -> Int { at + 4 <= elf.count ? u16(at) | u16(at + 2) << 16 : 0 }
        func u64(_ at: Int) -> Int { at + 8 <= elf.count ? u32(at) | u32(at + 4) << 32 : 0 }
        guard elf.count > 64, elf[0] == 0x7f, elf[1] == 0x45, elf[2] == 0x4c, elf[3] == 0x46, elf[4] == 2 else { return false }
        let programHeaders = u64(0x20), entrySize = u16(0x36), count = u16(0x38)
        for index in 0..<count {
            let header = programHeaders + index * entrySize
            guard u32(header) == 4 else { continue }  // PT_NOTE
            var offset = u64(header + 8)
            let end = min(offset + u64(header + 32), elf.count)
            while offset + 12 <= end {
                let nameSize = u32(offset), descriptionSize = u32(offset + 4), type = u32(offset + 8)
                let name = String(decoding: elf[(offset + 12)..<min(offset + 12 + max(nameSize - 1, 0), end)], as: UTF8.self)
                if name == "Xen" && type == 18 { return true }
                offset += 12 + (nameSize + 3) / 4 * 4 + (descriptionSize + 3) / 4 * 4
            }
        }
        return false
    }
}
