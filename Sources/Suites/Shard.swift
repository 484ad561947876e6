/// One of N parts of a list, for spreading work over a CI matrix (`ksand test --shard K/N`, `ksand validate --shard
/// K/N`).
///
/// `ksand test` deals tests round-robin (``owns(index:)``, ``select(_:)``): item i (0-based, in the list's order)
/// belongs to shard (i mod N) + 1, so a list that grows at its end changes each shard by at most one item.
/// `ksand validate` cuts the series into contiguous chunks (``contiguousRange(count:)``), so each shard builds one
/// run of consecutive prefixes, each on top of the one before. Either way the N shards cover every item exactly once
/// and their sizes differ by at most one, and the same list and the same N always give the same parts: shards run
/// on different machines agree without talking to each other.
public struct Shard: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// K: which shard, 1 ≤ K ≤ N.
    public let index: Int
    /// N: how many shards, 1 ≤ N ≤ ``maximumCount``.
    public let count: Int

    /// The most shards a list may be split into: more than any CI matrix runs, few enough to name in a message.
    public static let maximumCount = 1000

    /// Shard `index` of `count`; throws unless 1 ≤ index ≤ count ≤ ``maximumCount``.
    public init(index: Int, count: Int) throws(ShardError) {
        let text = "\(index)/\(count)"
        guard (1...Self.maximumCount).contains(count) else { throw ShardError(input: text, rule: .countOutOfRange) }
        guard (1...count).contains(index) else { throw ShardError(input: text, rule: .indexOutOfRange(count: count)) }
        self.index = index
        self.count = count
    }

    /// `K/N` as a user writes it: two whole numbers, no sign, no spaces, 1 ≤ K ≤ N ≤ 1000.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }) else {
            throw ShardError(input: text, rule: .malformed)
        }
        // Digits only, so a nil is an overflow: out of range like any other too large number.
        guard let count = Int(parts[1]), (1...Self.maximumCount).contains(count) else { throw ShardError(input: text, rule: .countOutOfRange) }
        guard let index = Int(parts[0]), (1...count).contains(index) else {
            throw ShardError(input: text, rule: .indexOutOfRange(count: count))
        }
        self.index = index
        self.count = count
    }

    /// Whether the item at `index` (0-based) of a list belongs to this shard.
    public func owns(index itemIndex: Int) -> Bool {
        itemIndex >= 0 && itemIndex % count == index - 1
    }

    /// This shard's items of `items`, in their order.
    public func select<T>(_ items: [T]) -> [T] {
        stride(from: index - 1, to: items.count, by: count).map { items[$0] }
    }

    /// The 0-based indices of this shard's items in a list of `total` items, in order.
    public func indices(of total: Int) -> StrideTo<Int> {
        stride(from: index - 1, to: max(total, 0), by: count)
    }

    /// How many of `total` items this shard holds: total / N, plus one for the first total mod N shards.
    public func size(of total: Int) -> Int {
        guard total > 0 else { return 0 }
        return total / count + (index - 1 < total % count ? 1 : 0)
    }

    /// This shard's chunk of a list of `total` items cut into N contiguous chunks, as 0-based indices: the first
    /// total mod N chunks hold total / N + 1 items, the others total / N, in order, so the chunks of shards 1...N
    /// follow each other and cover 0..<total exactly once. Empty when the list has fewer items than there are
    /// shards and this one gets none.
    public func contiguousRange(count total: Int) -> Range<Int> {
        guard total > 0 else { return 0..<0 }
        let (quotient, remainder) = total.quotientAndRemainder(dividingBy: count)
        let before = index - 1
        let start = before * quotient + min(before, remainder)
        return start..<start + quotient + (before < remainder ? 1 : 0)
    }

    /// `K/N`.
    public var description: String { "\(index)/\(count)" }

    enum CodingKeys: String, CodingKey {
        case index, count
    }

    /// Decodes `{"index": K, "count": N}`, refusing a pair outside the rule as any other malformed value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(index: try container.decode(Int.self, forKey: .index), count: try container.decode(Int.self, forKey: .count))
        } catch let error as ShardError {
            throw DecodingError.dataCorruptedError(forKey: .index, in: container, debugDescription: error.description)
        }
    }
}

/// A `K/N` that is not a shard: the input and the rule it breaks, as the `--shard` option shows it.
public struct ShardError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Rule: Equatable, Sendable {
        /// Not two whole numbers separated by one `/`.
        case malformed
        /// N is not between 1 and ``Shard/maximumCount``.
        case countOutOfRange
        /// K is not between 1 and N.
        case indexOutOfRange(count: Int)
    }

    /// The text as given.
    public var input: String
    public var rule: Rule

    public init(input: String, rule: Rule) {
        self.input = input
        self.rule = rule
    }

    /// The rule broken: `K must be between 1 and N (2)`.
    public var reason: String {
        switch rule {
        case .malformed: "expected K/N, two whole numbers with 1 ≤ K ≤ N ≤ \(Shard.maximumCount), such as 1/4"
        case .countOutOfRange: "N must be between 1 and \(Shard.maximumCount)"
        case .indexOutOfRange(let count): "K must be between 1 and N (\(count))"
        }
    }

    /// `--shard 3/2: K must be between 1 and N (2)`.
    public var description: String { "--shard \(input): \(reason)" }
}
