import CArchive

/// Decompresses a single compressed stream (gzip, xz, lzma, zstd, lz4, bzip2, lzop) with libarchive's raw
/// format reader, which recognises the compression by its magic bytes.
public enum StreamDecompressor {
    /// Decompresses `input`, handing each decompressed block to `sink`. Returns the decompressed size.
    ///
    /// - Parameter allowsTrailingData: a kernel payload carries bytes after its compressed stream (the
    ///   uncompressed size), and some libarchive filters report those as an error once all data is out; with
    ///   `true` such an error after output is ignored. With `false` (kernel modules) any error is thrown, so a
    ///   truncated or damaged stream never passes as a shorter file.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, what: String, allowsTrailingData: Bool = true,
        sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        guard let reader = archive_read_new() else { throw StreamDecompressorError(what: what, message: "archive_read_new failed: out of memory") }
        defer { archive_read_free(reader) }
        func failure(_ operation: String) -> StreamDecompressorError {
            StreamDecompressorError(what: what, message: operation + ": " + (archive_error_string(reader).map { String(cString: $0) } ?? "unknown error"))
        }
        archive_read_support_filter_all(reader)
        archive_read_support_format_raw(reader)
        guard archive_read_open_memory(reader, input.baseAddress, input.count) == ARCHIVE_OK else { throw failure("open") }
        var entry: OpaquePointer?
        guard archive_read_next_header(reader, &entry) == ARCHIVE_OK else { throw failure("read header") }
        // The raw format always has the "none" filter; a compression adds one more.
        guard archive_filter_count(reader) > 1 else {
            throw StreamDecompressorError(what: what, message: "not compressed in a format libarchive knows")
        }
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress, $0.count) }
            if n > 0 {
                try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                total += n
            } else if n == 0 {
                return total
            } else if total > 0 && allowsTrailingData {
                return total
            } else {
                throw failure("read data after \(total) bytes")
            }
        }
    }
}

/// A stream that could not be decompressed.
public struct StreamDecompressorError: Error, CustomStringConvertible {
    /// The input, as the caller named it.
    public var what: String
    /// libarchive's reason.
    public var message: String
    public var description: String { "cannot decompress \(what): \(message)" }
}
