import ArgumentParser
import Foundation
import KsandFoundation
import Sandbox

/// `ksand snapshot list|clear`: the snapshots of booted guests that `ksand run` starts from.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "List or remove the snapshots of booted guests that runs start from.",
        discussion: """
            `ksand run` starts a sandbox from a snapshot of its machine's boot, taken once the init is up and before \
            it mounts anything; it is made on first use and kept in the cache (snapshot/ in $KSAND_CACHE_DIR, else \
            ~/.cache/ksand). Each is valid for one QEMU binary, kernel, initramfs, machine, memory size, CPU count, \
            accelerator, kernel command line and set of --rw shares. Their disk space is bounded by \
            $KSAND_SNAPSHOT_LIMIT (default 2G): past it the least recently used are removed.
            """,
        subcommands: [List.self, Clear.self]
    )

    /// A `KSAND_SNAPSHOT_LIMIT` that is not a size.
    struct LimitError: Error, CustomStringConvertible {
        var text: String
        var description: String {
            "KSAND_SNAPSHOT_LIMIT=\(text): expected a size in bytes, or with K, M or G (e.g. 2G); unset it for the default 2G"
        }
    }

    static func store() throws(LimitError) -> SnapshotStore {
        let environment = ProcessInfo.processInfo.environment
        var limit = SnapshotStore.defaultLimitBytes
        if let text = environment["KSAND_SNAPSHOT_LIMIT"], !text.isEmpty {
            guard let count = ByteCount(argument: text) else { throw LimitError(text: text) }
            limit = count.bytes
        }
        return SnapshotStore(cache: .standard(environment: environment), limitBytes: limit)
    }

    /// The store for `list` and `clear`: a bad limit is reported once, without the usage text, with status 1.
    static func reportedStore() throws -> SnapshotStore {
        do {
            return try store()
        } catch {
            report("error: \(error)")
            throw ExitCode(1)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the snapshots, their size on disk and when they were last used.")
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let store = try SnapshotCommand.reportedStore()
            let entries = store.entries()
            let total = entries.reduce(0) { $0 + $1.diskBytes }
            if json {
                let rows = entries.map { entry in
                    Row(digest: entry.digest, diskBytes: entry.diskBytes, lastUsed: entry.lastUsed, record: entry.record)
                }
                let document = Listing(directory: store.directory, totalBytes: total, limitBytes: store.limitBytes, snapshots: rows)
                print(String(decoding: try JSONDocument.prettyPrinted(document), as: UTF8.self))
                return
            }
            let formatter = ISO8601DateFormatter()
            for entry in entries {
                let made = entry.record.map { " made in \($0.makingMilliseconds) ms" } ?? ""
                let summary = entry.record?.key.summary ?? "(no readable snapshot.json)"
                print("\(entry.digest)  \(Self.size(entry.diskBytes).leftPadded(8))  used \(formatter.string(from: entry.lastUsed))  \(summary)\(made)")
            }
            print("\(entries.count) snapshot\(entries.count == 1 ? "" : "s"), \(Self.size(total)) of \(Self.size(store.limitBytes)) in \(store.directory)")
        }

        static func size(_ bytes: UInt64) -> String {
            bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
        }

        struct Row: Encodable {
            var digest: String
            var diskBytes: UInt64
            var lastUsed: Date
            var record: SnapshotRecord?
        }

        struct Listing: Encodable {
            var directory: String
            var totalBytes: UInt64
            var limitBytes: UInt64
            var snapshots: [Row]
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every snapshot that no run is restoring from.")

        func run() throws {
            let store = try SnapshotCommand.reportedStore()
            let removed = store.clear()
            print("removed \(removed) snapshot\(removed == 1 ? "" : "s") from \(store.directory)")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
