import CGuestSyscalls
import Glibc
import SandboxProtocol

/// The end of every run: kill what is left, flush, say so, power off. PID 1 must never return (the kernel would
/// panic).
enum PowerOff {
    static func now(log: KernelLog) -> Never {
        // Whatever the command left running (daemons outside its process group) must not write after the sync.
        kill(-1, SIGKILL)
        sync()
        log.marker(.powerOff)
        _ = ksand_power_off()
        // No power-off method worked; QEMU runs with -no-reboot, so a reboot ends it as well.
        _ = ksand_restart()
        while true { pause() }
    }
}
