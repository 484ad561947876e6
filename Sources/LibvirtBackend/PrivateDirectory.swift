import Glibc

/// Directory and file operations for ``EmbeddedDriverRoot`` that follow no symbolic link: directories are opened
/// with `O_NOFOLLOW | O_DIRECTORY` and checked through the descriptor (owner, mode), and what lies inside is reached
/// relative to it (`mkdirat`, `openat`, `renameat`), so swapping a path component for a link mid-way changes nothing.
enum PrivateDirectory {
    /// Opens the directory at the absolute `path`, creating it with mode 0700 if missing, and checks that it is the
    /// caller's and closed to group and others. Returns its descriptor.
    static func open(_ path: String, create: Bool) throws(EmbeddedDriverRootError) -> Int32 {
        if create, mkdir(path, 0o700) != 0, errno != EEXIST {
            throw .io(what: "create the directory", path: path, errno: errno)
        }
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw refusal(path: path, errno: errno, parent: AT_FDCWD, name: path) }
        do throws(EmbeddedDriverRootError) {
            try check(descriptor, path: path, privateMode: true)
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// Opens (creating with mode 0700) the directory `name` inside the directory `parent`; it must be the caller's
    /// and not writable by others.
    static func open(_ name: String, in parent: Int32, displayPath: String) throws(EmbeddedDriverRootError) -> Int32 {
        if mkdirat(parent, name, 0o700) != 0, errno != EEXIST {
            throw .io(what: "create the directory", path: displayPath, errno: errno)
        }
        let descriptor = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw refusal(path: displayPath, errno: errno, parent: parent, name: name) }
        do throws(EmbeddedDriverRootError) {
            try check(descriptor, path: displayPath, privateMode: false)
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// Writes `text` to a new temporary file in `directory`, then renames it over `name`: a reader sees the old file
    /// or the new one, never half of one. On failure nothing is left but what was there before.
    static func writeAtomically(_ text: String, named name: String, in directory: Int32, displayPath: String)
        throws(EmbeddedDriverRootError) {
        let temporary = ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let file = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw .io(what: "create a temporary file beside", path: displayPath, errno: errno) }
        var failure: Int32 = 0
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count, failure == 0 {
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(file, base + written, raw.count - written)
            }
            if count < 0 {
                if errno != EINTR { failure = errno }
            } else {
                written += count
            }
        }
        if failure == 0, fsync(file) != 0 { failure = errno }
        if close(file) != 0, failure == 0 { failure = errno }
        if failure == 0, renameat(directory, temporary, directory, name) != 0 { failure = errno }
        if failure != 0 {
            unlinkat(directory, temporary, 0)
            throw .io(what: "write", path: displayPath, errno: failure)
        }
    }

    private static func check(_ descriptor: Int32, path: String, privateMode: Bool) throws(EmbeddedDriverRootError) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .io(what: "inspect", path: path, errno: errno) }
        guard status.st_uid == geteuid() else {
            throw .unsafe(path: path, problem: "it is owned by uid \(status.st_uid), not by you (uid \(geteuid()))")
        }
        let forbidden: mode_t = privateMode ? 0o077 : 0o022
        guard status.st_mode & forbidden == 0 else {
            let mode = String(status.st_mode & 0o7777, radix: 8)
            throw .unsafe(path: path, problem: "its mode is 0\(mode): " + (privateMode ? "others may enter it" : "others may write to it"))
        }
    }

    /// The error for a directory that would not open: a link or a non-directory is refused, anything else is I/O.
    /// (Linux reports a link opened with `O_NOFOLLOW | O_DIRECTORY` as ENOTDIR, so the entry itself is looked at.)
    private static func refusal(path: String, errno code: Int32, parent: Int32, name: String) -> EmbeddedDriverRootError {
        guard code == ELOOP || code == ENOTDIR else { return .io(what: "open the directory", path: path, errno: code) }
        var status = stat()
        if fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFLNK {
            return .unsafe(path: path, problem: "it is a symbolic link")
        }
        return .unsafe(path: path, problem: "it is not a directory")
    }
}
