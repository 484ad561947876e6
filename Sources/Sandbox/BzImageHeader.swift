/// The parts of an x86 bzImage's boot-protocol setup header that ksand needs (Documentation/x86/boot.rst).
public struct BzImageHeader: Equatable, Sendable {
    /// The kernel version string the image embeds, e.g. `6.1.0-56-amd64 (debian-kernel@…) #1 SMP …`.
    public var versionString: String
    /// The boot protocol version, e.g. 0x020f.
    public var protocolVersion: UInt16
    /// Where the compressed kernel starts in the file, and its length.
    public var payloadRange: Range<Int>

    /// The kernel release: the version string up to the first space, as `uname -r` prints it.
    public var release: String { String(versionString.split(separator: " ", maxSplits: 1).first ?? "") }

    /// Parses the header from the first bytes of a file (at least the setup sectors). Nil if it is not a bzImage.
    public init?(bytes: [UInt8]) {
        func u16(_ at: Int) -> UInt16? { at + 2 <= bytes.count ? UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 : nil }
        func u32(_ at: Int) -> UInt32? {
            guard let lo = u16(at), let hi = u16(at + 2) else { return nil }
            return UInt32(lo) | UInt32(hi) << 16
        }
        // "HdrS" at 0x202 marks the boot protocol header; 0xAA55 at 0x1FE is the boot sector signature.
        guard bytes.count > 0x250, u16(0x1fe) == 0xaa55, Array(bytes[0x202..<0x206]) == Array("HdrS".utf8),
              let version = u16(0x206), version >= 0x0208 else { return nil }
        let setupSectors = bytes[0x1f1] == 0 ? 4 : Int(bytes[0x1f1])
        let protectedModeStart = (setupSectors + 1) * 512
        guard let versionPointer = u16(0x20e), let payloadOffset = u32(0x248), let payloadLength = u32(0x24c) else {
            return nil
        }
        let versionStart = Int(versionPointer) + 0x200
        guard versionPointer != 0, versionStart < bytes.count else { return nil }
        let versionEnd = bytes[versionStart...].firstIndex(of: 0) ?? bytes.count
        self.versionString = String(decoding: bytes[versionStart..<versionEnd], as: UTF8.self)
        self.protocolVersion = version
        let start = protectedModeStart + Int(payloadOffset)
        self.payloadRange = start..<(start + Int(payloadLength))
    }

    /// The compression of the payload, recognised by its magic bytes.
    public static func payloadCompression(_ magic: [UInt8]) -> String? {
        let known: [(String, [UInt8])] = [
            ("gzip", [0x1f, 0x8b]), ("xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), ("zstd", [0x28, 0xb5, 0x2f, 0xfd]),
            ("lz4", [0x02, 0x21, 0x4c, 0x18]), ("bzip2", [0x42, 0x5a, 0x68]), ("lzma", [0x5d, 0x00, 0x00]),
            ("lzo", [0x89, 0x4c, 0x5a, 0x4f]), ("elf", [0x7f, 0x45, 0x4c, 0x46]),
        ]
        return known.first { magic.starts(with: $0.1) }?.0
    }
}
