import KernelBuild

/// The kernel built from one prefix of the series (patches 1...k; 0 is the base alone), or why there is none.
public enum PrefixBuild: Sendable {
    case built(BuiltPrefix)
    /// A patch of the prefix did not apply: `git apply`'s complaint, naming the patch, its file and hunk.
    case doesNotApply(String)
    /// make failed: the compiler's errors, the log's last lines, and the full log.
    case failed(errors: [BuildDiagnostic], tail: [String], logPath: String)

    public var kernel: BuiltPrefix? {
        if case .built(let kernel) = self { return kernel }
        return nil
    }
}

/// A prefix's kernel in the cache.
public struct BuiltPrefix: Codable, Equatable, Sendable {
    /// The bzImage to boot.
    public var bzImage: String
    /// Its cache key.
    public var artifactKey: String
    /// True when no make ran for it (the cache had it).
    public var cached: Bool
    /// How long make ran for it, when it ran.
    public var buildSeconds: Double?
    /// The compiler's warnings and errors, paths relative to the tree.
    public var diagnostics: [BuildDiagnostic]
    /// `6.1.158`.
    public var kernelRelease: String
    /// The compiler's version, as the kernel's manifest records it.
    public var compiler: String?

    public init(bzImage: String, artifactKey: String, cached: Bool, buildSeconds: Double? = nil, diagnostics: [BuildDiagnostic], kernelRelease: String,
                compiler: String? = nil) {
        self.bzImage = bzImage
        self.artifactKey = artifactKey
        self.cached = cached
        self.buildSeconds = buildSeconds
        self.diagnostics = diagnostics
        self.kernelRelease = kernelRelease
        self.compiler = compiler
    }
}

/// What validating needs done to the outside world: build a prefix's kernel, and boot it to run the tests.
///
/// ``SeriesValidator`` decides what to build and run, and judges; an implementation does the work
/// (``KernelValidationSteps`` with real builds and sandboxes; a test's with recorded answers).
public protocol ValidationSteps: Sendable {
    /// Builds patches 1...`prefix` on the base (0: the base alone), or answers from the cache. Throws only for what
    /// stops the whole validation (a source or config that cannot be used, an interruption); a patch that does not
    /// apply or a build that fails is an answer.
    func build(prefix: Int) async throws -> PrefixBuild

    /// Boots `kernel` `runs` times for each test (the suites, or the command) and measures each run.
    func measure(_ kernel: BuiltPrefix, runs: Int) async throws -> PrefixMeasurement

    /// The configuration every prefix is built with, as reports name it (`tinyconfig + sandbox.config`); nil when
    /// there is none to name.
    var configName: String? { get }
}

extension ValidationSteps {
    public var configName: String? { nil }
}
