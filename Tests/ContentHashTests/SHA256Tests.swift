import Testing
import ContentHash

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        var empty = SHA256()
        empty.update([UInt8]())
        #expect(empty.finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256()
        abc.update("abc")
        #expect(abc.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var long = SHA256()
        long.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        #expect(long.finalize() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func chunkingDoesNotChangeTheDigest() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var whole = SHA256()
        whole.update(data)
        var pieces = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 7] .cycled(until: data.count) {
            let end = min(offset + size, data.count)
            pieces.update(data[offset..<end])
            offset = end
            if offset == data.count { break }
        }
        #expect(whole.finalize() == pieces.finalize())
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
