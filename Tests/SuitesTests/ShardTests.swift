import Foundation
import Testing
import Suites

/// `--shard K/N`: what parses, what is refused and why, and that N shards split any list exactly and evenly.
@Suite struct ShardTests {
    @Test(arguments: [("1/1", 1, 1), ("1/2", 1, 2), ("2/2", 2, 2), ("7/1000", 7, 1000), ("1000/1000", 1000, 1000), ("03/4", 3, 4)])
    func parses(text: String, index: Int, count: Int) throws {
        let shard = try Shard(parsing: text)
        #expect(shard.index == index && shard.count == count)
        #expect(shard == (try Shard(index: index, count: count)))
        #expect(shard.description == "\(index)/\(count)")
    }

    @Test(arguments: [
        ("0/2", "--shard 0/2: K must be between 1 and N (2)"),
        ("3/2", "--shard 3/2: K must be between 1 and N (2)"),
        ("1/0", "--shard 1/0: N must be between 1 and 1000"),
        ("1/1001", "--shard 1/1001: N must be between 1 and 1000"),
        ("1/99999999999999999999999", "--shard 1/99999999999999999999999: N must be between 1 and 1000"),
        ("99999999999999999999999/2", "--shard 99999999999999999999999/2: K must be between 1 and N (2)"),
        ("a/b", "--shard a/b: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        (" 1/2", "--shard  1/2: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("1/2 ", "--shard 1/2 : expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("1/2/3", "--shard 1/2/3: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("-1/2", "--shard -1/2: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("+1/2", "--shard +1/2: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("1/", "--shard 1/: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("/2", "--shard /2: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("", "--shard : expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("12", "--shard 12: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
        ("١/٢", "--shard ١/٢: expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ 1000, such as 1/4"),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: ShardError.self) { try Shard(parsing: text) }
        do {
            _ = try Shard(parsing: text)
        } catch {
            #expect(error.input == text)
            #expect(error.description == message)
        }
    }

    @Test func refusesOutOfRangeValues() {
        #expect(throws: ShardError(input: "0/2", rule: .indexOutOfRange(count: 2))) { try Shard(index: 0, count: 2) }
        #expect(throws: ShardError(input: "1/0", rule: .countOutOfRange)) { try Shard(index: 1, count: 0) }
        #expect(throws: ShardError(input: "-1/-1", rule: .countOutOfRange)) { try Shard(index: -1, count: -1) }
    }

    @Test func itemIGoesToShardIModNPlusOne() throws {
        let items = Array("abcdefg")
        #expect(try Shard(parsing: "1/3").select(items) == Array("adg"))
        #expect(try Shard(parsing: "2/3").select(items) == Array("be"))
        #expect(try Shard(parsing: "3/3").select(items) == Array("cf"))
        #expect(try Shard(parsing: "1/1").select(items) == items)
        #expect(try Shard(parsing: "5/9").select(items) == ["e"])
        #expect(try Shard(parsing: "8/9").select(items).isEmpty)
        #expect(try Shard(parsing: "2/3").select([Int]()).isEmpty)
        let shard = try Shard(parsing: "2/3")
        #expect((0..<8).filter(shard.owns(index:)) == [1, 4, 7])
        #expect(!shard.owns(index: -2))
    }

    /// For many list lengths and shard counts: every item in exactly one shard, in order within it, and the
    /// shards' sizes differ by one at most and agree with `size(of:)` and `indices(of:)`.
    @Test func shardsCoverEveryItemExactlyOnceAndBalance() throws {
        for total in [0, 1, 2, 3, 5, 7, 10, 31, 64, 100, 257] {
            for count in [1, 2, 3, 4, 5, 7, 8, 13, 64, 100, 999, 1000] {
                let items = Array(0..<total)
                var seen = [Int](repeating: 0, count: total)
                var sizes: [Int] = []
                for index in 1...count {
                    let shard = try Shard(index: index, count: count)
                    let part = shard.select(items)
                    #expect(part == part.sorted())
                    #expect(part == Array(shard.indices(of: total)))
                    #expect(part.count == shard.size(of: total))
                    #expect(part.allSatisfy(shard.owns(index:)))
                    for item in part { seen[item] += 1 }
                    sizes.append(part.count)
                }
                #expect(seen.allSatisfy { $0 == 1 }, "\(total) items in \(count) shards")
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1, "\(total) items in \(count) shards: \(sizes)")
                #expect(sizes.reduce(0, +) == total)
            }
        }
    }

    @Test func contiguousChunksFollowEachOther() throws {
        #expect(try (1...3).map { try Shard(index: $0, count: 3).contiguousRange(count: 7) } == [0..<3, 3..<5, 5..<7])
        #expect(try (1...4).map { try Shard(index: $0, count: 4).contiguousRange(count: 8) } == [0..<2, 2..<4, 4..<6, 6..<8])
        #expect(try Shard(parsing: "1/1").contiguousRange(count: 5) == 0..<5)
        // More shards than items: the first ones get one each, the rest none.
        #expect(try (1...5).map { try Shard(index: $0, count: 5).contiguousRange(count: 2).count } == [1, 1, 0, 0, 0])
        #expect(try Shard(parsing: "2/3").contiguousRange(count: 0).isEmpty)
        #expect(try Shard(parsing: "2/3").contiguousRange(count: -4).isEmpty)
    }

    /// For many list lengths and shard counts: the chunks of shards 1...N, in order, are 0..<total with no gap and
    /// no overlap, their sizes differ by one at most and agree with `size(of:)`, and the same inputs give the same
    /// chunks.
    @Test func contiguousChunksCoverEveryItemExactlyOnceAndBalance() throws {
        for total in [0, 1, 2, 3, 5, 7, 10, 31, 64, 100, 257] {
            for count in [1, 2, 3, 4, 5, 7, 8, 13, 64, 100, 999, 1000] {
                var next = 0
                var sizes: [Int] = []
                for index in 1...count {
                    let shard = try Shard(index: index, count: count)
                    let chunk = shard.contiguousRange(count: total)
                    #expect(chunk.lowerBound == next, "\(total) items, shard \(shard)")
                    #expect(chunk == shard.contiguousRange(count: total))
                    #expect(chunk.count == shard.size(of: total))
                    next = chunk.upperBound
                    sizes.append(chunk.count)
                }
                #expect(next == total, "\(total) items in \(count) shards")
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1, "\(total) items in \(count) shards: \(sizes)")
            }
        }
    }

    @Test func encodesAsIndexAndCountAndRefusesABadOne() throws {
        let shard = try Shard(parsing: "2/5")
        let data = try JSONEncoder().encode(shard)
        #expect(try JSONDecoder().decode(Shard.self, from: data) == shard)
        #expect(try JSONDecoder().decode(Shard.self, from: Data(#"{"index":3,"count":4}"#.utf8)) == (try Shard(index: 3, count: 4)))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Shard.self, from: Data(#"{"index":3,"count":2}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Shard.self, from: Data(#"{"index":1,"count":0}"#.utf8)) }
    }
}
