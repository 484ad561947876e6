import SystemPackage

/// Reads whole host files, failing with the input's role, its path and the system's reason.
enum HostFile {
    static func read(_ path: String, what: String) throws(InitramfsError) -> [UInt8] {
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            return try descriptor.closeAfter {
                var contents: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                    if count == 0 { return contents }
                    contents.append(contentsOf: chunk[0..<count])
                }
            }
        } catch {
            throw .unreadable(what: what, path: path, reason: (error as? Errno)?.description ?? "\(error)")
        }
    }
}
