import Foundation

/// Blocking work (accepting on a socket, reading frames with poll) on a thread of its own, awaited without holding
/// one of the concurrency pool's few threads.
enum BlockingThread {
    static func run<T: Sendable>(named name: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = name
            thread.start()
        }
    }
}
