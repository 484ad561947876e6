import ArgumentParser
import Foundation
import Sandbox

@main
struct Ksand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ksand",
        abstract: "Build small Linux sandbox kernels, boot them under QEMU with the host's root read-only, and prove them.",
        discussion: """
            Exit status of `ksand run`: the command's own (a signal as 128+n), or one of
              \(SandboxExitCode.guestPanic.rawValue)  the guest kernel panicked
              \(SandboxExitCode.bootFailure.rawValue)  the guest never ran the command (boot or init failure)
              \(SandboxExitCode.protocolError.rawValue)  the guest broke the command channel's protocol; the VM was stopped
              \(SandboxExitCode.timeout.rawValue)  --timeout expired
              \(SandboxExitCode.setupError.rawValue)  host-side setup error (bad option or --name, missing kernel or QEMU,
                   a runtime or cache directory that is not the caller's own)
              126/127  the command could not be executed / was not found inside the guest
              \(SandboxExitCode.interrupted.rawValue)  ksand was interrupted (SIGINT, SIGTERM, SIGHUP)
            """,
        subcommands: [
            RunCommand.self, TestCommand.self, ReportCommand.self, ValidateCommand.self, PsCommand.self, StopCommand.self, KernelCommand.self,
            InitramfsCommand.self, SnapshotCommand.self,
        ]
    )

    static func main() async {
        // A parent may hand ksand a blocked signal mask (processes spawned from libdispatch worker threads
        // inherit theirs); ksand must still see Ctrl-C and SIGTERM to stop its VM.
        SignalTrap.unblockTrappedSignals()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // `ksand run` hands back the command's own status, so a usage error must not look like one (64 is
            // EX_USAGE, which a command may exit with too): it is a setup error, as documented. `ksand test` and
            // `ksand validate` say 125 for input they cannot work with, a bad option included.
            if ["run", "test", "validate"].contains(CommandLine.arguments.dropFirst().first), exitCode(for: error) == .validationFailure {
                let message = fullMessage(for: error)
                FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
                Foundation.exit(SandboxExitCode.setupError.rawValue)
            }
            exit(withError: error)
        }
    }
}
