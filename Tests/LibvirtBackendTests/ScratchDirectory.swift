import Foundation

/// A fresh directory under /tmp for one test (mode 0700), removed with everything in it when the test lets go of it.
final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/ksand-libvirt-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "/tmp/ksand-libvirt-test-XXXXXX"])
        }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The permission bits of `path`.
    func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
