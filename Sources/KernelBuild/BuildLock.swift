import Foundation
import Glibc

/// An exclusive `flock` on a build directory, so two ksand processes never run make in the same one (or extract
/// the same source at once).
struct BuildLock {
    private let descriptor: Int32

    init(directory: String, work: String = "build", say: (String) -> Void) throws(KernelBuildError) {
        let path = directory + "/lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(what: "cannot open", path: path, reason: String(cString: strerror(errno))) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            say("waiting for another ksand \(work) in \(directory)")
            flock(descriptor, LOCK_EX)
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
