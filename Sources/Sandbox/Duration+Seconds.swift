extension Duration {
    /// The duration in seconds, as a Double: what timelines, budgets, reports and JSON documents show.
    public var seconds: Double { self / .seconds(1) }
}
