import Foundation
import Glibc
import KsandFoundation

/// The snapshots of booted guests in the cache (`snapshot/` in ``CacheDirectory``), one directory per
/// ``SnapshotKey`` digest, bounded in size.
///
/// Each key has a lock file beside its directory. A restore holds it shared from the check of the files until QEMU
/// has loaded them; making or replacing a snapshot holds it exclusive. A snapshot is made in a directory of its own
/// and renamed into place whole, so a reader sees the old snapshot or the new one, never half of one; a restore that
/// already mapped the old memory file keeps it (the replaced files are unlinked, not rewritten).
public struct SnapshotStore: Sendable {
    public var directory: String
    /// The most disk space the snapshots may take; past it the least recently used are removed.
    public var limitBytes: UInt64

    /// The default bound on the snapshots' disk space.
    public static let defaultLimitBytes: UInt64 = 2 << 30

    public init(cache: CacheDirectory, limitBytes: UInt64 = SnapshotStore.defaultLimitBytes) {
        directory = cache.path + "/snapshot"
        self.limitBytes = limitBytes
    }

    /// A snapshot found in the cache or just made, held shared until ``SnapshotClaim/release()``.
    public enum Lookup: Sendable {
        case found(SnapshotClaim)
        case missing
        /// There is one, but it cannot be used: why.
        case unusable(String)
    }

    /// The snapshot for `key`, checked, with its lock held shared; `.missing` or `.unusable` release the lock.
    public func lookup(_ key: SnapshotKey) throws(SandboxError) -> Lookup {
        let lock = try openLock(key)
        flock(lock, LOCK_SH)
        let lookup = check(key, lock: lock)
        if case .found = lookup { return lookup }
        close(lock)
        return lookup
    }

    /// Makes the snapshot for `key` with `make` (which saves it into the directory it is given) unless another
    /// process made a usable one while this one waited for the lock; either way it comes back held shared.
    public func make(
        _ key: SnapshotKey, with make: (String) async throws(SnapshotError) -> SnapshotRecord
    ) async throws(SnapshotError) -> SnapshotClaim {
        let lock: Int32
        do { lock = try openLock(key) } catch { throw .cache("\(error)") }
        flock(lock, LOCK_EX)
        if case .found(let claim) = check(key, lock: lock) {
            flock(lock, LOCK_SH)
            return claim
        }
        let final = path(of: key)
        let making = directory + "/.making-\(key.digest)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: making, withIntermediateDirectories: false)
        } catch {
            close(lock)
            throw .cache("cannot create \(making): \(error.localizedDescription)")
        }
        let record: SnapshotRecord
        do {
            record = try await make(making)
            let data = try JSONDocument.prettyPrinted(record)
            try AtomicFile.write(data, to: making + "/" + SnapshotRecord.fileName)
        } catch {
            try? FileManager.default.removeItem(atPath: making)
            close(lock)
            if let error = error as? SnapshotError { throw error }
            throw .cache("\(error)")
        }
        removeDirectory(final)
        guard rename(making, final) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: making)
            close(lock)
            throw .cache("cannot move \(making) to \(final): \(errnoText(code))")
        }
        flock(lock, LOCK_SH)
        let claim = SnapshotClaim(lock: lock, directory: final, record: record)
        evict(keeping: key.digest)
        return claim
    }

    /// Removes the snapshot for `key` (one that failed to restore), once no restore holds it.
    public func discard(_ key: SnapshotKey) {
        guard let lock = try? openLock(key) else { return }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        removeDirectory(path(of: key))
    }

    /// One snapshot in the cache, for listings.
    public struct Entry: Sendable {
        public var digest: String
        public var record: SnapshotRecord?
        public var diskBytes: UInt64
        /// When a run last restored it (or it was made).
        public var lastUsed: Date
    }

    /// The snapshots in the cache, most recently used first.
    public func entries() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var entries: [Entry] = []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix(".lock") {
            let path = directory + "/" + name
            let record = FileManager.default.contents(atPath: path + "/" + SnapshotRecord.fileName)
                .flatMap { JSONDocument.decode(SnapshotRecord.self, from: $0) }
            let files = [SnapshotRecord.memoryFileName, SnapshotRecord.stateFileName, SnapshotRecord.fileName]
            let bytes = files.reduce(0) { $0 + SnapshotRecord.diskBytes(of: path + "/" + $1) }
            var info = stat()
            let used = stat(path, &info) == 0 ? Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec)) : Date.distantPast
            entries.append(Entry(digest: name, record: record, diskBytes: bytes, lastUsed: used))
        }
        return entries.sorted { $0.lastUsed > $1.lastUsed }
    }

    /// Removes every snapshot no restore holds; returns how many were removed.
    @discardableResult
    public func clear() -> Int {
        var removed = 0
        for entry in entries() where removeUnlessHeld(entry.digest) { removed += 1 }
        removeLeftovers()
        return removed
    }

    /// Removes the least recently used snapshots until the rest fit in ``limitBytes``; `keeping` stays.
    func evict(keeping: String) {
        var entries = entries()
        var total = entries.reduce(0) { $0 + $1.diskBytes }
        while total > limitBytes, let victim = entries.last(where: { $0.digest != keeping }) {
            entries.removeAll { $0.digest == victim.digest }
            if removeUnlessHeld(victim.digest) { total -= victim.diskBytes }
        }
        removeLeftovers()
    }

    // MARK: - Files and locks

    func path(of key: SnapshotKey) -> String { directory + "/" + key.digest }

    private func check(_ key: SnapshotKey, lock: Int32) -> Lookup {
        let path = path(of: key)
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        guard let data = FileManager.default.contents(atPath: path + "/" + SnapshotRecord.fileName),
              let record = JSONDocument.decode(SnapshotRecord.self, from: data) else {
            return .unusable("\(path)/\(SnapshotRecord.fileName) is missing or unreadable")
        }
        guard record.key == key else { return .unusable("\(path) was saved for another machine") }
        if let mismatch = record.mismatch(in: path) { return .unusable(mismatch) }
        // The directory's modification time is when it was last used: eviction removes the oldest first.
        utimensat(AT_FDCWD, path, nil, 0)
        return .found(SnapshotClaim(lock: lock, directory: path, record: record))
    }

    private func openLock(_ key: SnapshotKey) throws(SandboxError) -> Int32 {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(what: "cannot create snapshot directory", path: directory, errno: EIO)
        }
        let path = directory + "/" + key.digest + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(what: "cannot open", path: path, errno: errno) }
        return fd
    }

    private func removeUnlessHeld(_ digest: String) -> Bool {
        let lockPath = directory + "/" + digest + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { return false }
        defer { close(lock) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { return false }
        removeDirectory(directory + "/" + digest)
        unlink(lockPath)
        return true
    }

    /// Moves a directory aside before removing it, so that nobody ever sees it half removed.
    private func removeDirectory(_ path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let aside = directory + "/.removing-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if rename(path, aside) == 0 { try? FileManager.default.removeItem(atPath: aside) }
    }

    /// Directories that a killed ksand left half made or half removed.
    private func removeLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".removing-") || name.hasPrefix(".making-") {
            let parts = name.split(separator: "-")
            // .making-DIGEST-PID-N / .removing-PID-N: only a process that is gone left it.
            let pid = parts.count >= 3 ? Int32(parts[parts.count - 2]) : nil
            if let pid, pid == getpid() || kill(pid, 0) == 0 { continue }
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}

/// A snapshot held for a restore: its files do not change or go away until ``release()``.
public final class SnapshotClaim: Sendable {
    public let directory: String
    public let record: SnapshotRecord
    private let lock: Int32

    init(lock: Int32, directory: String, record: SnapshotRecord) {
        self.lock = lock
        self.directory = directory
        self.record = record
    }

    public var memoryPath: String { directory + "/" + SnapshotRecord.memoryFileName }
    public var statePath: String { directory + "/" + SnapshotRecord.stateFileName }

    /// Lets others replace or remove the snapshot (once QEMU has loaded it, or did not need it).
    public func release() {
        flock(lock, LOCK_UN)
    }

    deinit { close(lock) }
}

/// Why a snapshot could not be made or used; every one leads to a cold boot with a warning.
public enum SnapshotError: Error, CustomStringConvertible, Sendable {
    case cache(String)
    case boot(String)
    case save(String)
    /// The run was asked to stop while its snapshot was being made.
    case interrupted

    public var description: String {
        switch self {
        case .cache(let reason): "snapshot cache: \(reason)"
        case .boot(let reason): "booting the guest to snapshot it: \(reason)"
        case .save(let reason): "saving the guest's state: \(reason)"
        case .interrupted: "interrupted while the snapshot was being made"
        }
    }
}
