import CArchive

/// One entry of a newc archive, with everything that goes into its header fixed.
struct ArchiveEntry: Equatable {
    enum Kind: Equatable {
        case directory
        case file(contents: [UInt8])
        case characterDevice(major: UInt32, minor: UInt32)
    }

    /// The path inside the archive, without a leading slash (`dev/console`).
    var path: String
    var kind: Kind
    var mode: UInt32
}

/// Owns a libarchive writer handle that produces a newc cpio. Every header field that could vary between runs
/// (mtime, uid, gid, inode, device) is set explicitly, so equal entries give equal bytes.
///
/// libarchive's AE_IF* constants are cast macros that Swift does not import; the file types are the
/// standard S_IF* values (directory 0o040000, regular 0o100000, character device 0o020000).
struct ArchiveWriter: ~Copyable {
    private let handle: OpaquePointer
    private var nextInode: Int64 = 1

    /// What `.lz4` fails with; see `InitramfsCompression.lz4`.
    static let lz4Refusal = InitramfsError.unsupportedCompression(
        .lz4, reason: "the kernel unpacks only legacy LZ4 (`lz4 -l`), and libarchive writes only LZ4 frames; use zstd or gzip")

    /// Starts an archive written to `descriptor`, which stays open (and owned by the caller) after `finish()`.
    /// `path` is only for messages.
    init(descriptor: Int32, path: String, compression: InitramfsCompression) throws(InitramfsError) {
        guard let handle = archive_write_new() else {
            throw .libarchive(operation: "archive_write_new for \(path)", message: "out of memory")
        }
        do {
            try ArchiveWriter.configure(handle, descriptor: descriptor, path: path, compression: compression)
        } catch {
            archive_write_free(handle)
            throw error
        }
        self.handle = handle
    }

    private static func configure(_ handle: OpaquePointer, descriptor: Int32, path: String, compression: InitramfsCompression) throws(InitramfsError) {
        func check(_ status: Int32, _ operation: String) throws(InitramfsError) {
            // ARCHIVE_WARN from add_filter_* means "falling back to an external program": not in-process, so refused.
            guard status == ARCHIVE_OK else {
                throw .libarchive(operation: operation, message: archive_error_string(handle).map { String(cString: $0) } ?? "unknown error")
            }
        }
        try check(archive_write_set_format_cpio_newc(handle), "set_format_cpio_newc")
        switch compression {
        case .none:
            try check(archive_write_add_filter_none(handle), "add_filter_none")
        case .gzip:
            try check(archive_write_add_filter_gzip(handle), "add_filter_gzip")
            // A NULL value turns the option off: the gzip header's MTIME stays 0, so equal input gives equal bytes.
            try check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), "gzip:!timestamp")
        case .zstd:
            try check(archive_write_add_filter_zstd(handle), "add_filter_zstd")
        case .lz4:
            throw lz4Refusal
        }
        // Pad only to the cpio's own 4-byte alignment, not to 10 KiB tape blocks.
        try check(archive_write_set_bytes_in_last_block(handle, 1), "set_bytes_in_last_block")
        try check(archive_write_open_fd(handle, descriptor), "open \(path)")
    }

    deinit { archive_write_free(handle) }

    mutating func add(_ entry: ArchiveEntry) throws(InitramfsError) {
        guard let header = archive_entry_new() else { throw .libarchive(operation: "archive_entry_new", message: "out of memory") }
        defer { archive_entry_free(header) }
        archive_entry_set_pathname(header, entry.path)
        archive_entry_set_uid(header, 0)
        archive_entry_set_gid(header, 0)
        archive_entry_set_mtime(header, 0, 0)
        archive_entry_set_ino(header, la_int64_t(nextInode))
        archive_entry_set_dev(header, 0)
        archive_entry_set_size(header, 0)
        nextInode += 1
        var data: [UInt8] = []
        switch entry.kind {
        case .directory:
            archive_entry_set_filetype(header, 0o040000)
            archive_entry_set_nlink(header, 2)
        case .file(let contents):
            archive_entry_set_filetype(header, 0o100000)
            archive_entry_set_nlink(header, 1)
            archive_entry_set_size(header, la_int64_t(contents.count))
            data = contents
        case .characterDevice(let major, let minor):
            archive_entry_set_filetype(header, 0o020000)
            archive_entry_set_nlink(header, 1)
            archive_entry_set_rdevmajor(header, dev_t(major))
            archive_entry_set_rdevminor(header, dev_t(minor))
        }
        archive_entry_set_perm(header, mode_t(entry.mode & 0o7777))
        try check(archive_write_header(handle, header), "write header of \(entry.path)")
        if !data.isEmpty {
            let written = data.withUnsafeBytes { archive_write_data(handle, $0.baseAddress, $0.count) }
            guard written == data.count else {
                throw .libarchive(operation: "write data of \(entry.path)", message: errorString())
            }
        }
    }

    /// Writes the trailer and flushes the compressor; the descriptor stays open.
    consuming func finish() throws(InitramfsError) {
        try check(archive_write_close(handle), "close")
    }

    private func check(_ status: Int32, _ operation: String) throws(InitramfsError) {
        guard status == ARCHIVE_OK else { throw .libarchive(operation: operation, message: errorString()) }
    }

    private func errorString() -> String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
    }
}
