import Crypto
import Glibc

/// Hex SHA-256 digests for content-addressed cache keys, computed by swift-crypto's `SHA256`.
///
/// Bytes and strings may be fed in any pieces: the digest is that of their concatenation.
///
/// ```swift
/// var hasher = ContentHasher()
/// hasher.update("ksand-initramfs-2\n")
/// hasher.update(contents)
/// let key = hasher.finalize()                                  // 64 lowercase hex digits
/// let identity = try ContentHasher.hex(ofFileAt: "/usr/src/linux-source-6.1.tar.xz")
/// ```
public struct ContentHasher: Sendable {
    private var sha256 = SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256.update(bufferPointer: bytes)
    }

    public mutating func update<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let wasContiguous: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if wasContiguous == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Hashes `text`'s UTF-8 bytes.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of everything fed so far, as 64 lowercase hex digits.
    public consuming func finalize() -> String {
        let digest = sha256.finalize()
        return String(unsafeUninitializedCapacity: SHA256.byteCount * 2) { hex in
            var index = 0
            for byte in digest {
                hex[index] = Self.hexDigits[Int(byte >> 4)]
                hex[index + 1] = Self.hexDigits[Int(byte & 0x0f)]
                index += 2
            }
            return index
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

extension ContentHasher {
    /// The hex digest of `text`'s UTF-8 bytes.
    public static func hex(of text: String) -> String {
        var hasher = ContentHasher()
        hasher.update(text)
        return hasher.finalize()
    }

    /// The hex digest of a file's contents, read in 1 MiB pieces.
    public static func hex(ofFileAt path: String) throws(UnreadableFileError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw UnreadableFileError(path: path, errno: errno) }
        defer { close(descriptor) }
        var hasher = ContentHasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return hasher.finalize() }
            if count < 0 {
                if errno == EINTR { continue }
                throw UnreadableFileError(path: path, errno: errno)
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }
}

/// A file that could not be opened or read to the end for hashing.
public struct UnreadableFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// The system's reason, e.g. `No such file or directory`.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(path: String, errno code: Int32) {
        self.init(path: path, reason: String(cString: strerror(code)))
    }

    public var description: String { "cannot read \(path) to hash it: \(reason)" }
}
