/// A patch mail's subject split into its bracket prefix and its title: `[RFC PATCH v2 03/10] md: fix ...`.
///
/// The prefix is every bracket group at the start (`[PATCH 1/2]`, `[RFC][PATCH v3 2/4]`, `[PATCH net-next 1/3]`),
/// after any `Re:`/`Fwd:` markers. In it, `n/m` is the patch's place in the series, `vN` the series' version, and
/// the other words are tags (`PATCH`, `RFC`, `RESEND`, a tree name). A subject with no bracket prefix is all title.
public struct PatchSubject: Equatable, Sendable, Codable {
    /// The subject with the prefix removed, white space trimmed.
    public var title: String
    /// `n` of `n/m`: 0 for a cover letter, nil when the prefix has no `n/m`.
    public var number: Int?
    /// `m` of `n/m`.
    public var total: Int?
    /// `N` of `vN`.
    public var version: Int?
    /// The prefix's other words, in order, as written (`PATCH`, `RFC`, `net-next`).
    public var tags: [String]
    /// Whether the subject starts with `Re:` (a reply, not a patch of the series).
    public var isReply: Bool

    public init(title: String, number: Int? = nil, total: Int? = nil, version: Int? = nil, tags: [String] = [], isReply: Bool = false) {
        self.title = title
        self.number = number
        self.total = total
        self.version = version
        self.tags = tags
        self.isReply = isReply
    }

    /// Splits `subject` (already unfolded and decoded). Never fails: what is not understood stays in the title or
    /// the tags.
    public init(parsing subject: String) {
        var rest = Substring(subject)
        var isReply = false
        var tags: [String] = []
        var number: Int?, total: Int?, version: Int?
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if let marker = Self.replyMarker(rest) {
                isReply = isReply || marker.isReply
                rest = rest.dropFirst(marker.length)
                continue
            }
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else { break }
            for word in rest[rest.index(after: rest.startIndex)..<close].split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
                if let (n, m) = Self.numberOfTotal(word), number == nil {
                    number = n
                    total = m
                } else if let v = Self.version(word), version == nil {
                    version = v
                } else {
                    tags.append(String(word))
                }
            }
            rest = rest[rest.index(after: close)...]
        }
        self.init(title: String(rest.trimmingBlanks), number: number, total: total, version: version, tags: tags, isReply: isReply)
    }

    /// `Re:`, `RE:`, `Fwd:`, `Fw:` at the start, and how many characters it takes.
    private static func replyMarker(_ text: Substring) -> (isReply: Bool, length: Int)? {
        let lowered = text.prefix(4).lowercased()
        if lowered.hasPrefix("re:") { return (true, 3) }
        if lowered.hasPrefix("fwd:") { return (false, 4) }
        if lowered.hasPrefix("fw:") { return (false, 3) }
        return nil
    }

    /// `3/7`, `03/10`: both parts decimal, at most 5 digits each, m at least 1 (an n past m is the series' error to report).
    private static func numberOfTotal(_ word: Substring) -> (Int, Int)? {
        let parts = word.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ (1...5).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }),
              let n = Int(parts[0]), let m = Int(parts[1]), m >= 1 else { return nil }
        return (n, m)
    }

    /// `v2`, `V10`.
    private static func version(_ word: Substring) -> Int? {
        guard word.count >= 2, word.count <= 6, word.first == "v" || word.first == "V",
              word.dropFirst().allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(word.dropFirst())
    }
}

extension Character {
    /// 0 to 9 (not the other scripts' digits `isNumber` also takes): a patch number or a version.
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Substring {
    fileprivate var trimmingBlanks: Substring {
        var text = drop { $0 == " " || $0 == "\t" }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
