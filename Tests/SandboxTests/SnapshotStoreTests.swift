import ContentHash
import Foundation
import QEMU
@testable import Sandbox
import Testing

/// The snapshot cache's bookkeeping on real files, with snapshots whose memory and state files are made here
/// rather than by QEMU (the integration tests make real ones).
@Suite struct SnapshotStoreTests {
    let cache = CacheDirectory(path: NSTemporaryDirectory() + "ksand-store-\(UUID().uuidString.prefix(8))")

    func key(memoryMiB: Int = 512) -> SnapshotKey {
        let file = SnapshotKey.File(path: "/k", identity: "1:2:3:4.5")
        return SnapshotKey(
            format: SnapshotKey.currentFormat, qemu: file, kernel: file, initramfs: file, machine: .microvm, accelerator: .tcg,
            memoryMiB: memoryMiB, cpus: 1, kernelCommandLine: "console=ttyS0", shares: ["ksand-root:ro"], channelPort: "p")
    }

    /// Makes a snapshot of `size` bytes of memory (one page written, the rest a hole) and a small state.
    func make(_ store: SnapshotStore, _ key: SnapshotKey, memoryBytes: Int = 1 << 20, state: [UInt8] = Array("state".utf8)) async throws -> SnapshotClaim {
        try await store.make(key) { directory throws(SnapshotError) in
            let memory = directory + "/memory", statePath = directory + "/state"
            FileManager.default.createFile(atPath: memory, contents: Data(repeating: 0xcc, count: 4096))
            truncate(memory, off_t(memoryBytes))
            FileManager.default.createFile(atPath: statePath, contents: Data(state))
            return SnapshotRecord(
                key: key, listensToPowerButton: true, memoryBytes: UInt64(memoryBytes),
                memoryIdentity: SnapshotKey.File.of(memory)!.identity, stateBytes: UInt64(state.count),
                stateSHA256: (try? ContentHasher.hex(ofFileAt: statePath)) ?? "", created: Date(), makingMilliseconds: 1, bootMilliseconds: 1)
        }
    }

    @Test func aMadeSnapshotIsFoundHeldAndChecked() async throws {
        defer { try? FileManager.default.removeItem(atPath: cache.path) }
        let store = SnapshotStore(cache: cache)
        guard case .missing = try store.lookup(key()) else { Issue.record("an empty cache has a snapshot"); return }
        let made = try await make(store, key())
        #expect(made.record.listensToPowerButton)
        made.release()
        guard case .found(let claim) = try store.lookup(key()) else { Issue.record("the snapshot just made is not found"); return }
        #expect(claim.directory == store.directory + "/" + key().digest)
        claim.release()
        guard case .missing = try store.lookup(key(memoryMiB: 256)) else { Issue.record("another key found it"); return }
        #expect(store.entries().count == 1)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: store.directory)).contains { $0.hasPrefix(".making-") })
    }

    @Test(arguments: ["truncated memory", "changed memory", "changed state", "missing record"])
    func aSnapshotWhoseFilesChangedIsNotUsed(damage: String) async throws {
        defer { try? FileManager.default.removeItem(atPath: cache.path) }
        let store = SnapshotStore(cache: cache)
        let claim = try await make(store, key())
        claim.release()
        let directory = claim.directory
        switch damage {
        case "truncated memory": truncate(directory + "/memory", 4096)
        case "changed memory":
            let handle = try #require(FileHandle(forWritingAtPath: directory + "/memory"))
            try handle.seek(toOffset: 8192)
            handle.write(Data([1]))
            try handle.close()
        case "changed state": try Data("STATE".utf8).write(to: URL(fileURLWithPath: directory + "/state"))
        default: try FileManager.default.removeItem(atPath: directory + "/snapshot.json")
        }
        guard case .unusable(let reason) = try store.lookup(key()) else { Issue.record("a damaged snapshot (\(damage)) was used"); return }
        #expect(!reason.isEmpty)
        let remade = try await make(store, key())
        remade.release()
        guard case .found = try store.lookup(key()) else { Issue.record("the remade snapshot is not used"); return }
    }

    /// A restore that holds the old snapshot keeps its files while a new one replaces it.
    @Test func replacingASnapshotLeavesAHeldOneIntact() async throws {
        defer { try? FileManager.default.removeItem(atPath: cache.path) }
        let store = SnapshotStore(cache: cache)
        let old = try await make(store, key(), state: Array("old".utf8))
        old.release()
        guard case .found(let held) = try store.lookup(key()) else { Issue.record("not found"); return }
        let memory = open(held.memoryPath, O_RDONLY)
        defer { close(memory) }
        // Another process that finds it damaged makes a new one once the holder lets go; here the holder keeps
        // its descriptor, as a QEMU that mapped the memory does.
        held.release()
        store.discard(key())
        let new = try await make(store, key(), state: Array("new".utf8))
        new.release()
        var byte: UInt8 = 0
        #expect(pread(memory, &byte, 1, 0) == 1 && byte == 0xcc)
        #expect(try String(contentsOfFile: new.statePath, encoding: .utf8) == "new")
    }

    @Test func discardWaitsForTheRestoreThatHoldsIt() async throws {
        defer { try? FileManager.default.removeItem(atPath: cache.path) }
        let store = SnapshotStore(cache: cache)
        let claim = try await make(store, key())
        let discarded = Task.detached { store.discard(key()) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(FileManager.default.fileExists(atPath: claim.statePath), "removed while a restore held it")
        claim.release()
        await discarded.value
        #expect(!FileManager.default.fileExists(atPath: claim.directory))
    }

    /// Past the limit the least recently used go; one that a restore holds stays.
    @Test func theCacheStaysWithinItsLimit() async throws {
        defer { try? FileManager.default.removeItem(atPath: cache.path) }
        var store = SnapshotStore(cache: cache)
        let keys = [key(memoryMiB: 1), key(memoryMiB: 2), key(memoryMiB: 3), key(memoryMiB: 4)]
        var held: SnapshotClaim?
        for (index, key) in keys.enumerated() {
            let claim = try await make(store, key)
            if index == 0 { held = claim } else { claim.release() }
            // Distinct last-used times, oldest first.
            var times = [timespec(tv_sec: 1_000_000 + index * 100, tv_nsec: 0), timespec(tv_sec: 1_000_000 + index * 100, tv_nsec: 0)]
            utimensat(AT_FDCWD, claim.directory, &times, 0)
        }
        let each = store.entries().map(\.diskBytes).max() ?? 0
        #expect(each > 0)
        store.limitBytes = each * 2
        store.evict(keeping: keys[3].digest)
        let left = Set(store.entries().map(\.digest))
        #expect(left == [keys[0].digest, keys[3].digest], "the held one and the newest stay")
        held?.release()
        #expect(store.clear() == 2)
        #expect(store.entries().isEmpty)
    }

    @Test func leftoversOfAKilledProcessAreRemoved() async throws {
        defer { try? FileManager.default.removeItem(atPath: cache.path) }
        let store = SnapshotStore(cache: cache)
        try FileManager.default.createDirectory(atPath: store.directory + "/.making-abc-999999-1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: store.directory + "/.making-abc-\(getpid())-1", withIntermediateDirectories: true)
        store.clear()
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory)
        #expect(names == [".making-abc-\(getpid())-1"], "only a live process's directory stays: \(names)")
    }

    @Test func theKeyChangesWithEveryInput() {
        let base = key()
        var variants: [SnapshotKey] = []
        var changed = base; changed.memoryMiB = 256; variants.append(changed)
        changed = base; changed.cpus = 2; variants.append(changed)
        changed = base; changed.accelerator = .kvm; variants.append(changed)
        changed = base; changed.machine = .q35; variants.append(changed)
        changed = base; changed.kernelCommandLine += " quiet"; variants.append(changed)
        changed = base; changed.shares.append("ksand-rw0:rw"); variants.append(changed)
        changed = base; changed.qemu.identity = "1:2:3:9.9"; variants.append(changed)
        changed = base; changed.kernel.path = "/other"; variants.append(changed)
        changed = base; changed.initramfs.identity = "x"; variants.append(changed)
        let digests = Set(([base] + variants).map(\.digest))
        #expect(digests.count == variants.count + 1)
        #expect(base.digest == key().digest)
    }
}
