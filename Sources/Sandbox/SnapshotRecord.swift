import ContentHash
import Foundation
import KsandFoundation

/// A snapshot's own description (`snapshot.json` in its directory): what it is for, what the guest said in its
/// hello before it was saved, and what its two files must look like to be used.
///
/// A snapshot is the guest's RAM (`memory`, mapped copy-on-write by every restore, so it must never change) and the
/// devices' state (`state`, a QEMU migration stream without the RAM). Before a restore both are checked against
/// this record: the memory file by size and identity (a write to it changes its modification time), the state
/// file by size and SHA-256. A snapshot that fails the check is never used.
public struct SnapshotRecord: Codable, Equatable, Sendable {
    public var key: SnapshotKey
    /// The init's hello from the saved boot: whether it watches the ACPI power button.
    public var listensToPowerButton: Bool
    public var memoryBytes: UInt64
    public var memoryIdentity: String
    public var stateBytes: UInt64
    public var stateSHA256: String
    public var created: Date
    /// How long making it took: the boot up to the init's hello, and saving.
    public var makingMilliseconds: Int
    public var bootMilliseconds: Int

    static let fileName = "snapshot.json"
    static let memoryFileName = "memory"
    static let stateFileName = "state"

    /// Why `directory`'s files do not match this record, or nil when they do.
    public func mismatch(in directory: String) -> String? {
        let memory = directory + "/" + SnapshotRecord.memoryFileName
        let state = directory + "/" + SnapshotRecord.stateFileName
        guard let memoryFile = SnapshotKey.File.of(memory) else { return "\(memory) is missing" }
        let memorySize = SnapshotRecord.size(of: memory)
        guard memorySize == memoryBytes else { return "\(memory) holds \(memorySize) bytes, not the \(memoryBytes) it was saved with" }
        guard memoryFile.identity == memoryIdentity else { return "\(memory) was changed after the snapshot was saved" }
        let stateSize = SnapshotRecord.size(of: state)
        guard stateSize == stateBytes else { return "\(state) holds \(stateSize) bytes, not the \(stateBytes) it was saved with" }
        guard let digest = try? ContentHasher.hex(ofFileAt: state) else { return "\(state) cannot be read" }
        guard digest == stateSHA256 else { return "\(state) does not have the SHA-256 it was saved with" }
        return nil
    }

    static func size(of path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_size) : 0
    }

    /// The bytes `path` takes on disk (its blocks, not its length: the memory file is sparse).
    static func diskBytes(of path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_blocks) * 512 : 0
    }
}
