import ArgumentParser
import Foundation
import Sandbox

struct InitramfsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "initramfs",
        abstract: "Pack the sandbox initramfs (ksand's init and, for a modular kernel, its modules) into a file.",
        discussion: "Reproducible: the same kernel and init give a byte-identical file."
    )

    @Option(name: .shortAndLong, help: "Where to write the archive.") var output: String
    @Option(help: "bzImage whose modules to include (default: the newest /boot/vmlinuz-*).") var kernel: String?
    @Option(help: "Compression: none, gzip, zstd or lz4.") var compression: String = "none"

    func run() async throws {
        do {
            let image = try kernel.map(KernelImage.openLoosely) ?? KernelImage.defaultKernel()
            let preparer = SandboxPreparer()
            let built = try preparer.writeInitramfs(kernel: image, initBinary: try ExecutableLookup.guestInit(), compression: compression, to: output)
            print(built)
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
    }
}
