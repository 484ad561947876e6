import ContentHash
import Foundation
import Testing

extension SerializedIntegrationTests {
/// `ksand run` starting from the snapshot of its machine's boot, on the project's sandbox kernel under TCG, each
/// test with a cache of its own (KSAND_CACHE_DIR) so that it sees exactly the snapshots it made.
@Suite struct SnapshotStartTests {
    let cache = NSTemporaryDirectory() + "ksand-snap-\(UUID().uuidString.prefix(8))"

    /// The project's sandbox kernel, built (or found) in the default cache: the test's own cache holds no kernels.
    static let bzImage = Task<String, Never> {
        let built = try? await KsandProcess.run(["kernel", "build", "--print-path"], limit: 3600, directory: KsandProcess.repository)
        return built?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    func ksand(_ arguments: [String], limit: Double = 120) async throws -> KsandProcess.Result {
        try await KsandProcess.run(arguments, limit: limit, environment: ["KSAND_CACHE_DIR": cache], directory: KsandProcess.repository)
    }

    /// `ksand run --kernel BZIMAGE --accel tcg OPTIONS -- COMMAND` of the project's kernel, with its JSON result.
    func run(_ command: [String], options: [String] = []) async throws -> (KsandProcess.Result, [String: Any]) {
        let json = cache + "-\(UUID().uuidString.prefix(8)).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let kernel = await Self.bzImage.value
        #expect(FileManager.default.fileExists(atPath: kernel), "ksand kernel build --print-path gave \(kernel)")
        let result = try await ksand(["run", "--kernel", kernel, "--accel", "tcg", "--json", json] + options + ["--"] + command)
        let document = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))) as? [String: Any]
        return (result, document ?? [:])
    }

    /// The snapshots `ksand snapshot list --json` shows.
    func snapshots() async throws -> [[String: Any]] {
        let listed = try await ksand(["snapshot", "list", "--json"])
        #expect(listed.status == 0, "stderr: \(listed.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: listed.stdout) as? [String: Any])
        return document["snapshots"] as? [[String: Any]] ?? []
    }

    func snapshotDirectory(_ digest: String) -> String { cache + "/snapshot/" + digest }

    func cleanUp() { try? FileManager.default.removeItem(atPath: cache) }

    @Test func aRestoredRunBehavesExactlyAsABootedOne() async throws {
        defer { cleanUp() }
        let command = ["sh", "-c", "echo out; echo err >&2; exit 7"]
        for (options, start) in [([String](), "snapshot"), ([], "snapshot"), (["--cold"], nil)] {
            let (result, document) = try await run(command, options: options)
            #expect(result.status == 7, "stderr: \(result.stderr)")
            #expect(result.text == "out\n")
            #expect(result.stderr == "err\n")
            #expect(document["start"] as? String == start)
            let phases = document["phases"] as? [String: Double] ?? [:]
            if start != nil {
                #expect(phases["restore"] != nil && phases["kernel"] == nil, "phases: \(phases)")
            } else {
                #expect(phases["restore"] == nil && phases["kernel"] != nil, "phases: \(phases)")
            }
        }
        let listed = try await snapshots()
        #expect(listed.count == 1, "\(listed)")
        #expect((listed.first?["diskBytes"] as? Int ?? 0) > 1 << 20)
    }

    @Test func aSnapshotLimitThatIsNotASizeIsRefusedBeforeAnythingStarts() async throws {
        defer { cleanUp() }
        let environment = ["KSAND_CACHE_DIR": cache, "KSAND_SNAPSHOT_LIMIT": "lots"]
        let kernel = await Self.bzImage.value
        for arguments in [["snapshot", "list"], ["snapshot", "clear"], ["run", "--kernel", kernel, "--accel", "tcg", "--", "true"]] {
            let result = try await KsandProcess.run(arguments, limit: 60, environment: environment, directory: KsandProcess.repository)
            #expect(result.status == (arguments[0] == "run" ? 125 : 1), "\(arguments): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("KSAND_SNAPSHOT_LIMIT=lots") && lines[0].contains("e.g. 2G"),
                    "\(arguments): \(result.stderr)")
        }
        // Refused before preparing: nothing was unpacked or packed into the run's cache.
        #expect(!FileManager.default.fileExists(atPath: cache + "/initramfs"))
        // --cold does not use the snapshots, so it does not care.
        let (cold, _) = try await run(["true"], options: ["--cold"])
        #expect(cold.status == 0, "stderr: \(cold.stderr)")
    }

    @Test func restoredGuestsDrawTheirOwnRandomNumbersAndKeepTheHostsTime() async throws {
        defer { cleanUp() }
        let command = ["sh", "-c", "cat /proc/sys/kernel/random/uuid; date +%s.%N"]
        var uuids: Set<String> = []
        for _ in 0..<3 {
            let (result, document) = try await run(command)
            let host = Date().timeIntervalSince1970
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(document["start"] as? String == "snapshot")
            let lines = result.text.split(separator: "\n").map(String.init)
            try #require(lines.count == 2, "stdout: \(result.text)")
            uuids.insert(lines[0])
            let guest = try #require(Double(lines[1]))
            // The guest's clock was read a little before ksand ended; a snapshot's own time would be minutes off.
            #expect(abs(host - guest) < 1, "guest \(guest), host \(host)")
        }
        #expect(uuids.count == 3, "\(uuids)")
    }

    @Test func aChangedMachineOrQEMUMakesItsOwnSnapshot() async throws {
        defer { cleanUp() }
        let qemu = cache + "-qemu"
        defer { try? FileManager.default.removeItem(atPath: qemu) }
        // Another QEMU binary: a wrapper (a copy would not find its firmware, which QEMU looks up beside itself).
        try "#!/bin/sh\nexec /usr/bin/qemu-system-x86_64 \"$@\"\n".write(toFile: qemu, atomically: true, encoding: .utf8)
        #expect(chmod(qemu, 0o755) == 0)
        for options in [[], ["--memory", "384"], [], ["--qemu", qemu], ["--memory", "384"]] {
            let (result, document) = try await run(["true"], options: options)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(document["start"] as? String == "snapshot")
        }
        let listed = try await snapshots()
        #expect(listed.count == 3, "\(listed)")
        let memories = Set(listed.compactMap { ($0["record"] as? [String: Any])?["memoryBytes"] as? Int })
        #expect(memories == [384 << 20, 512 << 20])
    }

    @Test func aTruncatedSnapshotIsReplacedAfterOneWarning() async throws {
        defer { cleanUp() }
        let (first, _) = try await run(["true"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let digest = try #require(try await snapshots().first?["digest"] as? String)
        let memory = snapshotDirectory(digest) + "/memory"
        #expect(truncate(memory, 4096) == 0)
        let (second, document) = try await run(["sh", "-c", "echo still"])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.text == "still\n")
        #expect(second.stderr.components(separatedBy: "warning:").count == 2, "one warning: \(second.stderr)")
        #expect(second.stderr.contains("cannot be used") && second.stderr.contains("holds 4096 bytes"), "stderr: \(second.stderr)")
        #expect(document["start"] as? String == "snapshot")
        let attributes = try FileManager.default.attributesOfItem(atPath: memory)
        #expect(attributes[.size] as? Int == 512 << 20, "the snapshot was made again")
        let (third, _) = try await run(["true"])
        #expect(third.status == 0 && !third.stderr.contains("warning"), "stderr: \(third.stderr)")
    }

    /// A snapshot whose files match its record but that QEMU cannot load (its state rewritten with garbage, the
    /// record updated to match): the run says so once, boots cold, and the snapshot is made again next time.
    @Test func aSnapshotQEMUCannotLoadFallsBackToABoot() async throws {
        defer { cleanUp() }
        let (first, _) = try await run(["true"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let digest = try #require(try await snapshots().first?["digest"] as? String)
        let directory = snapshotDirectory(digest)
        let garbage = Data((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try garbage.write(to: URL(fileURLWithPath: directory + "/state"))
        let recordURL = URL(fileURLWithPath: directory + "/snapshot.json")
        var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: recordURL)) as? [String: Any])
        record["stateBytes"] = garbage.count
        record["stateSHA256"] = try ContentHasher.hex(ofFileAt: directory + "/state")
        try JSONSerialization.data(withJSONObject: record).write(to: recordURL)
        let (second, document) = try await run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(second.status == 3, "stderr: \(second.stderr)")
        #expect(second.text == "out\n")
        #expect(second.stderr.hasPrefix("ksand: warning: could not start from the snapshot"), "stderr: \(second.stderr)")
        #expect(second.stderr.hasSuffix("err\n"), "stderr: \(second.stderr)")
        #expect(document["start"] == nil, "a booted run")
        #expect(!FileManager.default.fileExists(atPath: directory + "/state") || (try? Data(contentsOf: URL(fileURLWithPath: directory + "/state"))) != garbage)
        let (third, thirdDocument) = try await run(["true"])
        #expect(third.status == 0 && !third.stderr.contains("warning"), "stderr: \(third.stderr)")
        #expect(thirdDocument["start"] as? String == "snapshot")
    }

    @Test func twoRunsAtOnceStartFromOneSnapshot() async throws {
        defer { cleanUp() }
        let (first, _) = try await run(["true"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        async let a = run(["sh", "-c", "echo a; cat /proc/sys/kernel/random/uuid"])
        async let b = run(["sh", "-c", "echo b; cat /proc/sys/kernel/random/uuid"])
        let ((resultA, documentA), (resultB, documentB)) = try await (a, b)
        #expect(resultA.status == 0 && resultB.status == 0, "stderr: \(resultA.stderr) / \(resultB.stderr)")
        #expect(resultA.text.hasPrefix("a\n") && resultB.text.hasPrefix("b\n"))
        #expect(resultA.text.dropFirst(2) != resultB.text.dropFirst(2))
        #expect(documentA["start"] as? String == "snapshot" && documentB["start"] as? String == "snapshot")
        #expect(try await snapshots().count == 1)
    }
}
}
