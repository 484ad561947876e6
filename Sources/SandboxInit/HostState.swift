import CGuestSyscalls
import Glibc
import SandboxProtocol

/// What the host hands every guest with its spec that a guest restored from a snapshot would otherwise share with
/// every other guest restored from it: the wall clock and a fresh seed for the kernel's RNG.
enum HostState {
    static func apply(_ spec: RunSpec) throws(InitFailure) {
        if let nanoseconds = spec.wallClockNanoseconds {
            var time = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            guard clock_settime(CLOCK_REALTIME, &time) == 0 else { throw .system("set the wall clock from the host's") }
        }
        if !spec.entropy.isEmpty {
            let result = spec.entropy.withUnsafeBufferPointer { ksand_add_entropy_and_reseed($0.baseAddress, Int32($0.count)) }
            guard result == 0 else { throw .system("add the host's entropy to the RNG and reseed it") }
        }
    }
}
