#include <stdlib.h>

// The Swift runtime's crash backtracer sets itself up before main and, unless told where its helper is, looks
// for it next to the executable: through dladdr (which a static glibc binary cannot answer), then
// /proc/self/exe. As PID 1 the init runs before /proc is mounted, and that failed lookup is a fatal error.
// The guest has no helper to run anyway, so: backtracer off, helper path given (never used), set before the
// runtime's own constructors read the environment (priority 101 runs ahead of unprioritised constructors).
__attribute__((constructor(101)))
static void ksand_disable_swift_backtracer(void) {
    setenv("SWIFT_BACKTRACE", "enable=no,swift-backtrace=/nonexistent/swift-backtrace", 1);
}
