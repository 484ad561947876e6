import Foundation
import Testing
import ContentHash

/// Digests checked against FIPS 180-4's examples and `sha256sum`: the cache keys built on them must never change.
@Suite struct ContentHasherTests {
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let twoBlocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    static let millionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    /// `head -c 3000000 /dev/zero | tr '\0' a | sha256sum`: three of the file reader's 1 MiB pieces, the last short.
    static let threeMillionA = "2a152c894398719c0570f83fac34ac03a0f6e8e474b995c2403aa5434f7b9dd4"
    /// The 100,000 bytes `i * 7 mod 256`, by Python's hashlib.
    static let pattern = "931030b89f42c06dcdda12a43dfcd601d745d11bbb5fcd1a00fea442e8405157"
    static let patternBytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func knownVectors() {
        var empty = ContentHasher()
        empty.update([UInt8]())
        #expect(empty.finalize() == Self.empty)
        var abc = ContentHasher()
        abc.update("abc")
        #expect(abc.finalize() == Self.abc)
        var long = ContentHasher()
        long.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        #expect(long.finalize() == Self.twoBlocks)
        #expect(ContentHasher.hex(of: "") == Self.empty)
        #expect(ContentHasher.hex(of: "abc") == Self.abc)
        var notContiguous = ContentHasher()
        notContiguous.update((0..<3).lazy.map { UInt8(ascii: "a") + UInt8($0) })
        #expect(notContiguous.finalize() == Self.abc)
    }

    @Test func aMillionAs() {
        var whole = ContentHasher()
        whole.update([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(whole.finalize() == Self.millionA)
        var pieces = ContentHasher()
        for _ in 0..<1000 { pieces.update(String(repeating: "a", count: 1000)) }
        #expect(pieces.finalize() == Self.millionA)
    }

    @Test func chunkingDoesNotChangeTheDigest() {
        let data = Self.patternBytes
        var whole = ContentHasher()
        whole.update(data)
        var pieces = ContentHasher()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 7].cycled(until: data.count) {
            let end = min(offset + size, data.count)
            pieces.update(data[offset..<end])
            offset = end
            if offset == data.count { break }
        }
        #expect(whole.finalize() == Self.pattern)
        #expect(pieces.finalize() == Self.pattern)
    }

    @Test func filesAreHashedWhole() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-hash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = [
            ("empty", Data(), Self.empty),
            ("abc", Data("abc".utf8), Self.abc),
            ("pattern", Data(Self.patternBytes), Self.pattern),
            ("three-million-a", Data(repeating: UInt8(ascii: "a"), count: 3_000_000), Self.threeMillionA),
        ]
        for (name, contents, digest) in files {
            try contents.write(to: URL(fileURLWithPath: directory + "/" + name))
            let actual = try ContentHasher.hex(ofFileAt: directory + "/" + name)
            #expect(actual == digest, "\(name)")
        }
        #expect(throws: UnreadableFileError(path: directory + "/missing", reason: "No such file or directory")) {
            try ContentHasher.hex(ofFileAt: directory + "/missing")
        }
        #expect(throws: UnreadableFileError(path: directory, reason: "Is a directory")) { try ContentHasher.hex(ofFileAt: directory) }
    }
}

extension Array where Element == Int {
    func cycled(until total: Int) -> [Int] {
        var out: [Int] = []
        var sum = 0
        while sum < total { for x in self { out.append(x); sum += x } }
        return out
    }
}
