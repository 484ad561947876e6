import KernelBuild

/// What `ksand validate` found, as `--json` writes it; the table, JUnit and KCIDB are rendered from it.
public struct ValidationReport: Codable, Equatable, Sendable {
    /// How the series was validated.
    public enum Mode: String, Codable, Sendable {
        /// Every patch, each against its parent.
        case series
        /// A binary search for the first bad prefix, each probe against the base.
        case bisect
        /// The whole series (the current tree) judged once, against the base (`--one`, for `git bisect run`).
        case one
    }

    /// How a prefix's kernel came to be.
    public struct Build: Codable, Equatable, Sendable {
        public enum State: String, Codable, Sendable {
            case built, cached, failed
            case doesNotApply = "does-not-apply"
            case notBuilt = "not-built"
        }
        public var state: State
        public var seconds: Double?
        public var kernelRelease: String?
        public var bzImage: String?
        /// The compiler's errors (build-failed), as gcc prints them.
        public var errors: [String]
        /// The log's last lines (build-failed).
        public var tail: [String]
        public var logPath: String?
        /// `git apply`'s complaint (does-not-apply), naming the patch, its file and hunk.
        public var applyError: String?

        public init(state: State, seconds: Double? = nil, kernelRelease: String? = nil, bzImage: String? = nil, errors: [String] = [],
                    tail: [String] = [], logPath: String? = nil, applyError: String? = nil) {
            self.state = state
            self.seconds = seconds
            self.kernelRelease = kernelRelease
            self.bzImage = bzImage
            self.errors = errors
            self.tail = tail
            self.logPath = logPath
            self.applyError = applyError
        }
    }

    /// The base's (prefix 0's) kernel and timings, which every bisection probe and the first patch compare with.
    public struct Base: Codable, Equatable, Sendable {
        public var build: Build
        public var bootMilliseconds: Double?
        public var shutdownMilliseconds: Double?
        public var runsPerTest: Int
        public var testsPassed: Int
        public var tests: Int
    }

    /// One patch (one prefix) of the series.
    public struct Patch: Codable, Equatable, Sendable {
        public var index: Int
        public var subject: String
        public var author: String?
        public var commit: String?
        /// The worst of ``verdicts``.
        public var verdict: PatchVerdict
        public var verdicts: [PatchVerdict]
        /// The prefix it was compared with: its parent (index − 1) unless that one did not build, the base (0) in a
        /// bisection; nil when there was none.
        public var comparedWith: Int?
        public var build: Build
        public var newWarnings: [BuildDiagnostic]
        public var testsPassed: Int
        public var tests: Int
        public var runsPerTest: Int
        public var failures: [TestFailureNote]
        public var timing: [TimingComparison]
        public var breaches: [BudgetNote]
        /// Median over every run of every test, for the table: the compared prefix's and this one's.
        public var parentBootMilliseconds: Double?
        public var bootMilliseconds: Double?
        public var parentShutdownMilliseconds: Double?
        public var shutdownMilliseconds: Double?

        public init(index: Int, subject: String, author: String? = nil, commit: String? = nil, verdict: PatchVerdict, verdicts: [PatchVerdict],
                    comparedWith: Int? = nil, build: Build, newWarnings: [BuildDiagnostic] = [], testsPassed: Int = 0, tests: Int = 0,
                    runsPerTest: Int = 0, failures: [TestFailureNote] = [], timing: [TimingComparison] = [], breaches: [BudgetNote] = [],
                    parentBootMilliseconds: Double? = nil, bootMilliseconds: Double? = nil, parentShutdownMilliseconds: Double? = nil,
                    shutdownMilliseconds: Double? = nil) {
            self.index = index
            self.subject = subject
            self.author = author
            self.commit = commit
            self.verdict = verdict
            self.verdicts = verdicts
            self.comparedWith = comparedWith
            self.build = build
            self.newWarnings = newWarnings
            self.testsPassed = testsPassed
            self.tests = tests
            self.runsPerTest = runsPerTest
            self.failures = failures
            self.timing = timing
            self.breaches = breaches
            self.parentBootMilliseconds = parentBootMilliseconds
            self.bootMilliseconds = bootMilliseconds
            self.parentShutdownMilliseconds = parentShutdownMilliseconds
            self.shutdownMilliseconds = shutdownMilliseconds
        }
    }

    /// One probe of a bisection.
    public struct BisectStep: Codable, Equatable, Sendable {
        /// The prefix probed (patches 1...prefix).
        public var prefix: Int
        /// `good`, `bad` or `skip` (it did not build, and what is sought needs a kernel).
        public var answer: String
        public var verdict: PatchVerdict
    }

    public struct Bisection: Codable, Equatable, Sendable {
        /// The verdicts that count as bad.
        public var seeking: [PatchVerdict]
        public var steps: [BisectStep]
        /// The first bad patch, when the search narrowed it to one.
        public var firstBad: Int?
        /// When skipped prefixes left it open: the patches one of which is the first bad one.
        public var candidates: [Int]
    }

    /// Always `ksand-validate`: what kind of document this is, for tools that read several.
    public var kind = "ksand-validate"
    public var mode: Mode
    /// Where the series came from (a file, a directory, `TREE BASE..HEAD`).
    public var series: String
    /// How many patches the series has.
    public var seriesLength: Int
    public var base: Base?
    public var patches: [Patch]
    public var bisection: Bisection?
    /// The first bad patch, and the first for each verdict found (`regressed` → 3).
    public var firstBad: Int?
    public var firstBadByVerdict: [String: Int]
    /// A command that reproduces the first bad patch's verdict.
    public var reproduce: String?
    /// Why nothing could be judged (the base does not build or boot), when so.
    public var couldNotValidate: String?
    /// How many times make ran, and how many prefixes came from the cache.
    public var builds: Int
    public var cachedBuilds: Int
    public var seconds: Double
    /// `kvm` or `tcg`.
    public var accelerator: String?
    /// The statistics' settings.
    public var alpha: Double
    public var minimumMilliseconds: Double
    public var minimumRelative: Double

    /// The verdicts that make a patch bad (all of ``PatchVerdict/bad`` unless `--for` chose some).
    public var seeking: [PatchVerdict]

    /// 0 every patch is good, 1 a bad patch was found, 125 the series could not be validated (or, for `--one`, the
    /// tree could not be judged: it does not apply or build and that is not what is sought, so `git bisect` skips it).
    public var exitStatus: Int32 {
        if couldNotValidate != nil { return 125 }
        let sought = Set(seeking)
        switch mode {
        case .bisect:
            return bisection?.firstBad != nil || !(bisection?.candidates.isEmpty ?? true) ? 1 : 0
        case .one:
            guard let patch = patches.last else { return 0 }
            if !sought.isDisjoint(with: patch.verdicts) { return 1 }
            return patch.verdict == .doesNotApply || patch.verdict == .buildFailed ? 125 : 0
        case .series:
            return patches.contains { !sought.isDisjoint(with: $0.verdicts) } ? 1 : 0
        }
    }
}
