import Glibc

/// Monotonic time in milliseconds, for deadlines.
enum Clock {
    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Sleeps for about one millisecond (the only sleep the init has: waiting for a device to appear).
    static func napOneMillisecond() {
        var interval = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        _ = nanosleep(&interval, nil)
    }
}
