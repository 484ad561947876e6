import ContentHash
import Foundation
import KernelConfig
import KernelSource

/// From a kernel source to a cached bzImage: source tree, patches, configuration, verification, make, artifact.
///
/// An unchanged re-run is answered from the cache index by hashing the inputs alone (patch, base and fragment
/// contents, the source's recorded identity, the compiler version): no tree, no make.
public struct KernelBuilder: Sendable {
    public var request: KernelBuildRequest
    public var control: BuildControl
    /// Receives one-line notes on what is happening (extracting, applying, reusing).
    public var say: @Sendable (String) -> Void
    /// Receives make's progress during the bzImage build.
    public var progress: (@Sendable (BuildProgress) -> Void)?

    public init(
        request: KernelBuildRequest, control: BuildControl = BuildControl(), say: @escaping @Sendable (String) -> Void = { _ in },
        progress: (@Sendable (BuildProgress) -> Void)? = nil
    ) {
        self.request = request
        self.control = control
        self.say = say
        self.progress = progress
    }

    /// A configured build directory: the tree make compiles, its output directory and the final .config.
    public struct Configured: Sendable {
        public var source: SourceDescription
        public var tree: String
        public var outputDirectory: String
        public var buildDirectory: String
        public var finalConfig: KernelConfiguration
        public var configPath: String { outputDirectory + "/.config" }
        public var logPath: String { buildDirectory + "/build.log" }
        var sourceTree: SourceTree
        var patchedTree: PatchedTree
        var configureSeconds: Double
    }

    /// The source a build used, for callers.
    public struct SourceDescription: Sendable {
        public var path: String
        public var identity: String
    }

    var store: ArtifactStore { ArtifactStore(kernelCache: request.kernelCache) }

    /// The kernel the current inputs produced before, if it is in the cache. Never runs make.
    public func cachedArtifact() async throws(KernelBuildError) -> KernelArtifact? {
        let identity: String?
        if request.inPlace || isDirectory(request.source) {
            identity = try await SourceTree.fingerprint(directory: request.source, control: control)
        } else {
            identity = SourceTree.knownIdentity(request.source, kernelCache: request.kernelCache)
        }
        guard let identity else { return nil }
        return store.lookup(inputKey: try inputKey(
            sourceIdentity: identity, patchDigest: PatchedTree.digest(try patches()), compiler: try await compilerVersion()))
    }

    /// Builds the kernel, or returns the cached one for the same inputs.
    public func build() async throws(KernelBuildError) -> KernelArtifact {
        if let cached = try await cachedArtifact(), hasDiagnostics(cached) { return cached }
        let configured = try await configure()
        let compiler = try await compilerVersion()
        let patchDigest = PatchedTree.digest(try patches())
        let configText = configured.finalConfig.rendered
        let key = ContentHasher.hex(of: [KernelManifest.currentFormat, configured.sourceTree.identity, patchDigest, configText, compiler, request.architecture].joined(separator: "\n"))
        let inputKey = try inputKey(sourceIdentity: configured.sourceTree.identity, patchDigest: patchDigest, compiler: compiler)
        if let existing = store.artifact(key: key), hasDiagnostics(existing) {
            try store.record(inputKey: inputKey, artifactKey: key)
            return existing
        }
        store.removeStaleStaging()
        let stepsFile = configured.buildDirectory + "/make-steps"
        let builtIn = configured.finalConfig.settings.filter { $0.value == .yes }.count
        let estimate = (try? String(contentsOfFile: stepsFile, encoding: .utf8)).flatMap { Int($0) } ?? BuildProgress.estimate(builtInSymbols: builtIn)
        let modules = configured.finalConfig.settings.filter { $0.value == .module }.map(\.symbol)
        if !modules.isEmpty {
            say("note: \(modules.count) symbols are modules (e.g. CONFIG_\(modules[0])); only the bzImage is built, so set what the sandbox needs to =y")
        }
        let started = ContinuousClock.now
        let final = try await make(configured).run(["bzImage"], control: control, estimate: estimate, progress: progress)
        let buildSeconds = (ContinuousClock.now - started) / .seconds(1)
        try? String(final.done).write(toFile: stepsFile, atomically: true, encoding: .utf8)

        let output = configured.outputDirectory
        let image = output + "/arch/x86/boot/bzImage"
        let imageSHA: String
        do {
            imageSHA = try ContentHasher.hex(ofFileAt: image)
        } catch {
            throw .io(what: "make did not produce", path: image, reason: error.reason)
        }
        let release = (try? String(contentsOfFile: output + "/include/config/kernel.release", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        let manifest = KernelManifest(
            key: key, kernelRelease: release, architecture: request.architecture, compiler: compiler,
            source: .init(kind: configured.sourceTree.kind.rawValue, path: configured.sourceTree.origin,
                          identity: configured.sourceTree.identity, inPlace: request.inPlace),
            patches: try manifestPatches(configured.patchedTree.state),
            config: .init(base: request.base.description, baseSHA256: try baseHash(), fragments: try fragmentHashes().map { .init(path: $0.path, sha256: $0.sha256) },
                          sha256: ContentHasher.hex(of: configText), symbolCount: configured.finalConfig.settings.filter { $0.value != .no }.count,
                          builtIn: builtIn, modules: modules.count),
            bzImage: .init(path: "bzImage", size: fileSize(image), sha256: imageSHA),
            timings: .init(configureSeconds: configured.configureSeconds, buildSeconds: buildSeconds, makeSteps: final.done, jobs: request.jobs),
            buildDirectory: configured.buildDirectory, created: ISO8601DateFormatter().string(from: Date()))
        let log = (try? String(contentsOfFile: configured.logPath, encoding: .utf8)) ?? ""
        let diagnostics = BuildDiagnosticsRecord(recompiled: request.recompile.sorted(),
                                                 diagnostics: BuildDiagnostic.parse(log: log, tree: configured.tree))
        if var existing = store.artifact(key: key) {
            // The same kernel, built again only to read the compiler's output on the files asked for.
            try store.writeDiagnostics(diagnostics, into: existing.directory)
            try store.record(inputKey: inputKey, artifactKey: key)
            existing.wasCached = false
            existing.madeSeconds = buildSeconds
            return existing
        }
        var files = ["bzImage": image, "config": configured.configPath]
        if FileManager.default.fileExists(atPath: output + "/System.map") { files["System.map"] = output + "/System.map" }
        var artifact = try store.store(files: files, manifest: manifest, diagnostics: diagnostics)
        try store.record(inputKey: inputKey, artifactKey: key)
        if !artifact.wasCached { artifact.madeSeconds = buildSeconds }
        return artifact
    }

    /// Whether `artifact`'s recorded diagnostics cover the files the request wants recompiled.
    private func hasDiagnostics(_ artifact: KernelArtifact) -> Bool {
        request.recompile.isEmpty || artifact.diagnostics()?.covers(request.recompile) == true
    }

    /// The compiler's diagnostics in the log of a build that failed with `error` (`make` failing), paths relative
    /// to the tree it compiled.
    public func diagnostics(ofFailedBuild error: KernelBuildError) -> [BuildDiagnostic] {
        guard case .makeFailed(_, _, _, let logPath) = error, let log = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        let tree = request.inPlace ? request.source : (logPath as NSString).deletingLastPathComponent + "/tree"
        return BuildDiagnostic.parse(log: log, tree: tree)
    }

    /// Prepares the tree and the build directory and configures it: base, fragments, `make olddefconfig`, and the
    /// check that every requested symbol survived (with the explanation of each that did not).
    public func configure() async throws(KernelBuildError) -> Configured {
        let started = ContinuousClock.now
        let patches = try patches()
        let fragments = try loadFragments()
        let source = try await SourceTree.prepare(request.source, kernelCache: request.kernelCache, control: control, say: say)
        let buildDirectory = try buildDirectory(for: source)
        let lock = try BuildLock(directory: buildDirectory, say: say)
        defer { lock.release() }
        let tree = request.inPlace
            ? try await PatchedTree.inPlace(source: source, patches: patches, say: say)
            : try await PatchedTree.prepare(source: source, patches: patches, buildDirectory: buildDirectory, recompile: request.recompile,
                                            control: control, say: say)
        let output = buildDirectory + "/out"
        try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: buildDirectory + "/build.log")
        let make = KernelMake(tree: tree.path, output: output, jobs: request.jobs, architecture: request.architecture,
                              compiler: request.compiler, logPath: buildDirectory + "/build.log")
        let configPath = output + "/.config"
        switch request.base {
        case .file(let path):
            do {
                try? FileManager.default.removeItem(atPath: configPath)
                try FileManager.default.copyItem(atPath: path, toPath: configPath)
            } catch {
                throw .badConfigInput(path: path, reason: "cannot be read (\(error))")
            }
        default:
            say("configuring: make \(request.base)")
            try await make.run(["\(request.base)"], control: control)
        }
        let base = try parseConfig(at: configPath, origin: request.base.description)
        let merged = ConfigMerge.merge(base: base, fragments: fragments)
        // Overriding the base is what fragments are for; one fragment overriding another is worth a note.
        let requested = ConfigMerge.merge(base: KernelConfiguration(origin: "fragments"), fragments: fragments)
        for override in requested.overrides { say(override.description) }
        do {
            try merged.merged.rendered.write(toFile: configPath, atomically: true, encoding: .utf8)
        } catch {
            throw .io(what: "cannot write", path: configPath, reason: "\(error)")
        }
        try await make.run(["olddefconfig"], control: control)
        let final = try parseConfig(at: configPath, origin: configPath)
        let mismatches = ConfigVerification.check(requested: requested.merged, final: final)
        if !mismatches.isEmpty {
            let database = try kconfig(tree: tree.path)
            throw .configRejected(mismatches.map { database.explain($0.symbol, wanted: $0.requested, in: final) }, configPath: configPath)
        }
        return Configured(
            source: SourceDescription(path: source.origin, identity: source.identity), tree: tree.path, outputDirectory: output,
            buildDirectory: buildDirectory, finalConfig: final, sourceTree: source, patchedTree: tree,
            configureSeconds: (ContinuousClock.now - started) / .seconds(1))
    }

    /// Why each of `symbols` (`CONFIG_X` or `CONFIG_X=value`; `y` if no value) has the value it has in this build's
    /// configuration, from the Kconfig files of its tree.
    public func explain(_ symbols: [String]) async throws(KernelBuildError) -> [Explanation] {
        let configured = try await configure()
        let database = try kconfig(tree: configured.tree)
        return symbols.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            let wanted = parts.count == 2 ? ConfigValue(parsing: String(parts[1])) ?? .yes : .yes
            return database.explain(String(parts[0]), wanted: wanted, in: configured.finalConfig)
        }
    }

    /// The kernel source the request names, as a build reads it: a directory as it is, a tarball extracted into
    /// the cache once (never modified afterwards; several processes may ask at once).
    public func sourceTree() async throws(KernelBuildError) -> String {
        try await SourceTree.prepare(request.source, kernelCache: request.kernelCache, control: control, say: say).path
    }

    // MARK: Inputs

    /// The series' patches, then the extra ones.
    func patches() throws(KernelBuildError) -> [PatchApplier.Patch] {
        if let list = request.patchList { return list }
        var result: [PatchApplier.Patch] = []
        if let series = request.series {
            guard let text = try? String(contentsOfFile: series, encoding: .utf8) else {
                throw .badConfigInput(path: series, reason: "the patch series cannot be read; fix the path or pass --no-patches")
            }
            do {
                result = try PatchApplier.patches(in: PatchSeries(parsing: text, source: series), seriesFile: series)
            } catch {
                throw .source(error)
            }
        }
        for path in request.extraPatches {
            guard FileManager.default.fileExists(atPath: path) else { throw .badConfigInput(path: path, reason: "the patch does not exist") }
            result.append(PatchApplier.Patch(path: path, label: "--patch \(path)"))
        }
        return result
    }

    func fragmentHashes() throws(KernelBuildError) -> [(path: String, sha256: String)] {
        try request.fragments.map { (path) throws(KernelBuildError) -> (path: String, sha256: String) in
            do throws(UnreadableFileError) {
                return (path, try ContentHasher.hex(ofFileAt: path))
            } catch {
                throw .badConfigInput(path: path, reason: "the fragment cannot be read: \(error.reason)")
            }
        }
    }

    func baseHash() throws(KernelBuildError) -> String? {
        guard case .file(let path) = request.base else { return nil }
        do {
            return try ContentHasher.hex(ofFileAt: path)
        } catch {
            throw .badConfigInput(path: path, reason: "the base config cannot be read: \(error.reason)")
        }
    }

    /// Everything that decides the kernel, hashed, without touching the tree.
    func inputKey(sourceIdentity: String, patchDigest: String, compiler: String) throws(KernelBuildError) -> String {
        let parts = [
            KernelManifest.currentFormat, sourceIdentity, request.inPlace ? "in-place" : "copy", patchDigest,
            request.base.description, try baseHash() ?? "", try fragmentHashes().map { $0.sha256 }.joined(separator: ","),
            compiler, request.architecture,
        ]
        return ContentHasher.hex(of: parts.joined(separator: "\n"))
    }

    func compilerVersion() async throws(KernelBuildError) -> String {
        let output = try await ChildProcess(executable: request.compiler, arguments: ["--version"]).check(control: control, step: "asking the compiler's version")
        return output.split(separator: "\n").first.map(String.init) ?? request.compiler
    }

    // MARK: Helpers

    /// One build directory per source, base and fragment names. The patches are not part of it: switching series,
    /// adding a patch or building with `--no-patches` renews only the files the patches touch, so make recompiles
    /// those objects instead of the whole kernel. Nor are the fragments' directories or contents: an edited fragment
    /// rebuilds incrementally (Kbuild follows each symbol into the objects that use it), and a second checkout of the
    /// same project (a CI clone, a worktree) finds the build directory the first one left instead of building cold.
    private func buildDirectory(for source: SourceTree) throws(KernelBuildError) -> String {
        let sourceKey = source.kind == .tarball ? source.identity : URL(fileURLWithPath: source.origin).standardizedFileURL.path
        let base: String
        if case .file(let path) = request.base { base = "file:" + (path as NSString).lastPathComponent } else { base = request.base.description }
        let parts = [sourceKey, request.inPlace ? "in-place" : "copy", base,
                     request.fragments.map { ($0 as NSString).lastPathComponent }.joined(separator: ","), request.architecture]
        let directory = request.kernelCache + "/build/" + String(ContentHasher.hex(of: parts.joined(separator: "\n")).prefix(24))
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(what: "cannot create the build directory", path: directory, reason: "\(error)")
        }
        return directory
    }

    private func make(_ configured: Configured) -> KernelMake {
        KernelMake(tree: configured.tree, output: configured.outputDirectory, jobs: request.jobs, architecture: request.architecture,
                   compiler: request.compiler, logPath: configured.logPath)
    }

    private func loadFragments() throws(KernelBuildError) -> [KernelConfiguration] {
        try request.fragments.map { (path) throws(KernelBuildError) -> KernelConfiguration in try parseConfig(at: path, origin: path) }
    }

    private func parseConfig(at path: String, origin: String) throws(KernelBuildError) -> KernelConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .badConfigInput(path: path, reason: "cannot be read")
        }
        do {
            return try KernelConfiguration(parsing: text, origin: origin)
        } catch {
            throw .badConfigInput(path: path, reason: "\(error)")
        }
    }

    private func kconfig(tree: String) throws(KernelBuildError) -> KconfigDatabase {
        do {
            return try KconfigDatabase(tree: URL(fileURLWithPath: tree), architecture: "x86")
        } catch {
            throw .badConfigInput(path: tree + "/Kconfig", reason: "cannot be parsed to explain the config: \(error)")
        }
    }

    private func manifestPatches(_ state: PatchedTree.State) throws(KernelBuildError) -> [KernelManifest.Patch] {
        try patches().map { patch in
            KernelManifest.Patch(path: patch.path, sha256: (try? ContentHasher.hex(ofFileAt: patch.path)) ?? "",
                                 state: state.alreadyApplied.contains(patch.path) ? "already-applied" : "applied")
        }
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
