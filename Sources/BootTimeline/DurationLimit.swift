/// The longest duration ksand accepts anywhere a user gives one in seconds: a `--timeout`, a stall window, a stop
/// wait, a grace period, a suite's timeout or budget.
public enum DurationLimit {
    /// A week. ksand waits and reports in whole milliseconds, so a duration must fit: `inf` and `1e300` do not, and
    /// no run needs more.
    public static let longestSeconds: Double = 7 * 24 * 3600

    /// Whether `seconds` is a duration ksand accepts: more than 0 and at most ``longestSeconds`` (never NaN).
    public static func accepts(_ seconds: Double) -> Bool { seconds > 0 && seconds <= longestSeconds }
}
