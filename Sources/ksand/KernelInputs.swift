import ArgumentParser
import Foundation
import KernelBuild
import ProjectFile
import Sandbox

/// The options that say which kernel to build, shared by `ksand kernel build` and `ksand kernel config`.
/// Each overrides the project file's `[kernel]` section.
struct KernelInputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Project file (default: the nearest ksand.toml in this directory or a parent).", valueName: "FILE")) var project: String?
    @Option(help: ArgumentHelp("Kernel source: a directory or a tarball (default: \(KernelBuildRequest.defaultSource)).", valueName: "DIR|TARBALL")) var source: String?
    @Flag(help: "Apply the patches to the source directory itself instead of a copy in the cache.") var inPlace = false
    @Option(help: ArgumentHelp("Quilt series file of patches to apply (default: the project's).", valueName: "FILE")) var series: String?
    @Option(help: ArgumentHelp("A patch to apply after the series (repeatable; git format-patch mail or unified diff).", valueName: "FILE")) var patch: [String] = []
    @Flag(help: "Apply no patches, neither the series nor --patch.") var noPatches = false
    @Option(help: ArgumentHelp("Base config: tinyconfig, allnoconfig, defconfig, or a .config file (default: tinyconfig).", valueName: "NAME|FILE")) var base: String?
    @Option(help: ArgumentHelp("Config fragment to merge onto the base (repeatable, in order; replaces the project's list).", valueName: "FILE")) var fragment: [String] = []
    @Option(help: "Parallel make jobs (default: the number of CPUs).") var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs \(jobs): must be at least 1") }
        if inPlace, let source, !FileManager.default.fileExists(atPath: source + "/Makefile") {
            throw ValidationError("--in-place needs --source to be a kernel source directory, not \(source)")
        }
        if inPlace, source == nil { throw ValidationError("--in-place needs --source DIR: ksand never patches the default tarball's tree") }
        if noPatches, series != nil || !patch.isEmpty { throw ValidationError("--no-patches cannot be combined with --series or --patch") }
    }

    /// The project file in effect: --project, or the nearest ksand.toml.
    func loadProject() throws -> ProjectFile? { try loadProjectFile(project) }

    /// The build request: these options over the project's `[kernel]` section over the defaults.
    func request(project: ProjectFile?) throws -> KernelBuildRequest {
        let fragments = !fragment.isEmpty ? fragment.map(absolute) : project?.kernel.fragments ?? []
        if fragments.isEmpty {
            throw ValidationError("no config fragments: pass --fragment FILE (e.g. kernel-config/sandbox.config), or run from a "
                + "project with a ksand.toml whose [kernel] section lists fragments")
        }
        let cache = CacheDirectory.standard()
        try cache.prepare()
        var seriesFile = series.map(absolute) ?? project?.kernel.series
        if seriesFile == "" || noPatches { seriesFile = nil }
        return KernelBuildRequest(
            source: source.map(absolute) ?? project?.kernel.source ?? KernelBuildRequest.defaultSource, inPlace: inPlace,
            series: seriesFile, extraPatches: noPatches ? [] : patch.map(absolute),
            base: KernelBuildRequest.Base(base.map { ProjectFile.namedBases.contains($0) ? $0 : absolute($0) } ?? project?.kernel.base ?? "tinyconfig"),
            fragments: fragments, jobs: jobs ?? project?.kernel.jobs ?? ProcessInfo.processInfo.activeProcessorCount,
            cacheRoot: cache.path)
    }
}

/// The project file `path` names, or the nearest ksand.toml in the current directory or a parent.
func loadProjectFile(_ path: String?) throws -> ProjectFile? {
    if let path { return try ProjectFile(contentsOf: absolute(path)) }
    return try ProjectFile.find(from: FileManager.default.currentDirectoryPath).map { try ProjectFile(contentsOf: $0) }
}

/// `UID` (with the caller's group) or `UID:GID`, as `--user` takes it; nil for anything else.
func userAndGroup(_ text: String) -> (uid: UInt32, gid: UInt32)? {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard let uid = UInt32(parts[0]) else { return nil }
    if parts.count == 1 { return (uid, getgid()) }
    guard parts.count == 2, let gid = UInt32(parts[1]) else { return nil }
    return (uid, gid)
}

/// A path made absolute against the current directory.
func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)).standardizedFileURL.path
}

/// Builds (or finds in the cache) the kernel `request` names, with a progress bar or lines on stderr; Ctrl-C or
/// SIGTERM stops make and leaves nothing half-written.
func buildKernel(_ request: KernelBuildRequest) async throws(KernelBuildError) -> KernelArtifact {
    let control = BuildControl()
    let trap = SignalTrap { _ in control.interrupt() }
    let printer = ProgressPrinter()
    defer {
        printer.finish()
        _ = trap
    }
    return try await KernelBuilder(request: request, control: control, say: { report($0) }, progress: { printer.show($0) }).build()
}
