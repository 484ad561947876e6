import Foundation

/// libvirt's own schema check, `virt-xml-validate FILE domain` (libvirt-clients, with xmllint from libxml2-utils).
enum SchemaCheck {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ xml: String) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-domain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("domain.xml")
        try Data(xml.utf8).write(to: file)
        // Output to a file, not a pipe: the tool cannot stall on a full pipe while the test waits for it to exit.
        let log = directory.appendingPathComponent("output")
        try Data().write(to: log)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["virt-xml-validate", file.path, "domain"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        var output = try String(contentsOf: log, encoding: .utf8)
        if process.terminationStatus == 127 {
            output += "\nvirt-xml-validate not found: install libvirt-clients and libxml2-utils (ci/install-deps.sh)"
        }
        return Result(status: process.terminationStatus, output: output)
    }
}
