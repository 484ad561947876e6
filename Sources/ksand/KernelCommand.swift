import ArgumentParser
import Foundation
import KernelBuild
import KernelConfig
import Sandbox

struct KernelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Build a sandbox kernel: patch series, trimmed and verified config, cached build.",
        subcommands: [KernelBuildCommand.self, KernelConfigCommand.self]
    )
}

/// Runs a kernel command's body and maps its errors: usage errors as they are, a build error (an interrupted build
/// as 130) or anything else reported and turned into an exit status.
private func reportingKernelErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as KernelBuildError {
        report("error: \(error)")
        throw ExitCode(error.isInterruption ? SandboxExitCode.interrupted.rawValue : 1)
    } catch let error as ValidationError {
        throw error
    } catch {
        report("error: \(error)")
        throw ExitCode(1)
    }
}

struct KernelBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the kernel (or find it in the cache) and print where it is.",
        discussion: """
            The source is extracted once into ksand's cache and never changed; the patches are applied to a linked copy
            (all or nothing); the base config is merged with the fragments and `make olddefconfig` run; every symbol a
            fragment asked for must survive, or the build stops and says why. One build directory per source and config
            is kept, so a changed, added or dropped patch recompiles only what it touches. The kernel is stored by content
            (source, patches, final .config, compiler) with a manifest.json; an unchanged re-run runs no make.
            """
    )

    @OptionGroup var inputs: KernelInputOptions
    @Flag(help: "Print only the bzImage's path on stdout.") var printPath = false

    func run() async throws {
        let started = ContinuousClock.now
        try await reportingKernelErrors {
            let artifact = try await buildKernel(try inputs.request(project: try inputs.loadProject()))
            let manifest = artifact.manifest
            if artifact.wasCached {
                report("kernel \(manifest.kernelRelease) is in the cache (\((ContinuousClock.now - started).formatted)); nothing to build")
            } else {
                report("kernel \(manifest.kernelRelease) built in \(String(format: "%.0f", manifest.timings.buildSeconds)) s "
                    + "(\(manifest.timings.makeSteps) make steps, -j\(manifest.timings.jobs)); \(manifest.config.symbolCount) symbols set, "
                    + "bzImage \(manifest.bzImage.size / 1024) KiB")
                report("log: \(manifest.buildDirectory)/build.log")
            }
            if printPath {
                print(artifact.bzImage)
            } else {
                print("bzImage:  \(artifact.bzImage)\nmanifest: \(artifact.manifestPath)")
            }
        }
    }
}

struct KernelConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Configure the kernel without building it: merge, olddefconfig, verify; or explain symbols.",
        discussion: """
            With --explain CONFIG_X (or CONFIG_X=m, or a value), says why the symbol has the value it has in the
            configured tree: which `depends on` term is unmet, what selects it, or that it has no prompt, and what to add.
            """
    )

    @OptionGroup var inputs: KernelInputOptions
    @Option(help: ArgumentHelp("Explain this symbol's value (repeatable).", valueName: "CONFIG_X[=VALUE]")) var explain: [String] = []

    func run() async throws {
        let control = BuildControl()
        let trap = SignalTrap { _ in control.interrupt() }
        try await reportingKernelErrors {
            let request = try inputs.request(project: try inputs.loadProject())
            let builder = KernelBuilder(request: request, control: control, say: { report($0) })
            if explain.isEmpty {
                let configured = try await builder.configure()
                report("every requested symbol survived; \(configured.finalConfig.settings.filter { $0.value != .no }.count) symbols set")
                print(configured.configPath)
            } else {
                for explanation in try await builder.explain(explain) { print(Self.answer(explanation)) }
            }
        }
        _ = trap
    }

    /// The explanation, phrased as the answer to "why does this symbol have this value, and how do I change it".
    static func answer(_ explanation: Explanation) -> String {
        let wanted = "CONFIG_\(explanation.symbol)=\(explanation.requested)"
        switch explanation.reason {
        case .satisfied:
            return "\(wanted): the configuration has this value"
        case .unexplained:
            let now = explanation.actual == .no ? "is not set" : "is \(explanation.actual)"
            return "CONFIG_\(explanation.symbol) \(now): its dependencies allow \(explanation.requested) and it has a prompt, "
                + "so a fragment line \(wanted) sets it"
        default:
            return explanation.description
        }
    }
}

extension KernelBuildError {
    var isInterruption: Bool {
        if case .interrupted = self { return true }
        return false
    }
}

extension Duration {
    /// `0.41 s`
    var formatted: String { String(format: "%.2f s", seconds) }
}
