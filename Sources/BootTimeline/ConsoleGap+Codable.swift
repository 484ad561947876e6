/// A gap as it appears in ksand's JSON documents (`blame` of `ksand run --json`, a detached sandbox's `result.json`
/// and `ksand test --json`): `seconds`, `at` (the printk time it starts), `before`, `after`, then `hint` and
/// `interjections` only when there are any. The hint is derived from `before`, so reading it back ignores it.
extension ConsoleGap: Codable {
    enum CodingKeys: String, CodingKey {
        case seconds
        case startsAt = "at"
        case before, after, hint, interjections
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            seconds: try container.decode(Double.self, forKey: .seconds),
            startsAt: try container.decode(Double.self, forKey: .startsAt),
            before: try container.decode(String.self, forKey: .before),
            after: try container.decode(String.self, forKey: .after),
            interjections: try container.decodeIfPresent([String].self, forKey: .interjections) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
        try container.encodeIfPresent(hint, forKey: .hint)
        if !interjections.isEmpty { try container.encode(interjections, forKey: .interjections) }
    }
}

/// Blame as it appears in a run's JSON document: `{"boot": [gap…], "shutdown": [gap…]}`, both always present.
extension Blame: Codable {
    enum CodingKeys: String, CodingKey {
        case boot, shutdown
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(boot: try container.decode([ConsoleGap].self, forKey: .boot),
                  shutdown: try container.decode([ConsoleGap].self, forKey: .shutdown))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(boot, forKey: .boot)
        try container.encode(shutdown, forKey: .shutdown)
    }
}
