import Foundation
import KernelBuild
import Regression
import Suites

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
        /// The compiler's version, as the kernel's manifest records it (`gcc (Debian 12.2.0-14) 12.2.0`), when built.
        public var compiler: String?

        public init(state: State, seconds: Double? = nil, kernelRelease: String? = nil, bzImage: String? = nil, errors: [String] = [],
                    tail: [String] = [], logPath: String? = nil, applyError: String? = nil, compiler: String? = nil) {
            self.state = state
            self.seconds = seconds
            self.kernelRelease = kernelRelease
            self.bzImage = bzImage
            self.errors = errors
            self.tail = tail
            self.logPath = logPath
            self.applyError = applyError
            self.compiler = compiler
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
        /// The tests run on its kernel (`suite/test`, or `command`), in plan order; nil in reports written before it.
        public var testIDs: [String]?

        public init(build: Build, bootMilliseconds: Double? = nil, shutdownMilliseconds: Double? = nil, runsPerTest: Int = 0, testsPassed: Int = 0,
                    tests: Int = 0, testIDs: [String]? = nil) {
            self.build = build
            self.bootMilliseconds = bootMilliseconds
            self.shutdownMilliseconds = shutdownMilliseconds
            self.runsPerTest = runsPerTest
            self.testsPassed = testsPassed
            self.tests = tests
            self.testIDs = testIDs
        }
    }

    /// One patch (one prefix) of the series.
    public struct Patch: Codable, Equatable, Sendable {
        public var index: Int
        public var subject: String
        public var author: String?
        public var commit: String?
        /// SHA-256 of the patch as `git apply` reads it (its whole mail or diff); nil when not known.
        public var sha256: String?
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
        /// The tests run on its kernel (`suite/test`, or `command`), in plan order; nil when it was not booted, and in
        /// reports written before it.
        public var testIDs: [String]?

        public init(index: Int, subject: String, author: String? = nil, commit: String? = nil, sha256: String? = nil, verdict: PatchVerdict, verdicts: [PatchVerdict],
                    comparedWith: Int? = nil, build: Build, newWarnings: [BuildDiagnostic] = [], testsPassed: Int = 0, tests: Int = 0,
                    runsPerTest: Int = 0, failures: [TestFailureNote] = [], timing: [TimingComparison] = [], breaches: [BudgetNote] = [],
                    parentBootMilliseconds: Double? = nil, bootMilliseconds: Double? = nil, parentShutdownMilliseconds: Double? = nil,
                    shutdownMilliseconds: Double? = nil, testIDs: [String]? = nil) {
            self.index = index
            self.subject = subject
            self.author = author
            self.commit = commit
            self.sha256 = sha256
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
            self.testIDs = testIDs
        }
    }

    /// One patch of the whole series, as the validation was given it: what a KCIDB checkout's patch set lists for
    /// every prefix, whichever patches the report judged.
    public struct SeriesPatch: Codable, Equatable, Sendable {
        public var index: Int
        public var subject: String
        /// SHA-256 of the patch as `git apply` reads it.
        public var sha256: String?
        /// The file it was read from, when it is one file of its own (a directory's or a quilt series' patch).
        public var file: String?
        /// The commit it was made from, when known.
        public var commit: String?

        public init(index: Int, subject: String, sha256: String? = nil, file: String? = nil, commit: String? = nil) {
            self.index = index
            self.subject = subject
            self.sha256 = sha256
            self.file = file
            self.commit = commit
        }
    }

    /// Where a series taken from a git tree (`--git DIR BASE..HEAD`) came from.
    public struct GitSource: Codable, Equatable, Sendable {
        /// The tree's directory.
        public var tree: String
        /// `BASE..HEAD`, as given.
        public var range: String
        /// BASE's full commit hash, when known.
        public var baseCommit: String?

        public init(tree: String, range: String, baseCommit: String? = nil) {
            self.tree = tree
            self.range = range
            self.baseCommit = baseCommit
        }
    }

    /// `"shard": {"index": K, "count": N}`: the report of `ksand validate --shard K/N`, which validated the K-th of N
    /// contiguous chunks of the series (``Shard/contiguousRange(count:)``). Plain numbers, as read from a file:
    /// ``shard`` checks them.
    public struct ShardRecord: Codable, Equatable, Sendable {
        public var index: Int
        public var count: Int

        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }

        public init(_ shard: Shard) {
            self.init(index: shard.index, count: shard.count)
        }

        /// The shard, when `index` and `count` make one.
        public var shard: Shard? { try? Shard(index: index, count: count) }
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

    /// When the validation started, ISO 8601 in UTC (`2026-12-02T01:00:00Z`); nil in reports written before it.
    public var started: String?
    /// For `--shard K/N`: which chunk of the series this report validated; nil for a whole validation.
    public var shard: ShardRecord?
    /// Every patch of the series, in order (whichever of them ``patches`` judged); nil in reports written before it.
    public var patchset: [SeriesPatch]?
    /// For a series taken from a git tree: the tree and range.
    public var git: GitSource?
    /// The kernel configuration every prefix was built with: the base and the fragments (`tinyconfig +
    /// sandbox.config`).
    public var config: String?

    public init(mode: Mode, series: String, seriesLength: Int, base: Base? = nil, patches: [Patch] = [], bisection: Bisection? = nil,
                firstBad: Int? = nil, firstBadByVerdict: [String: Int] = [:], reproduce: String? = nil, couldNotValidate: String? = nil,
                builds: Int = 0, cachedBuilds: Int = 0, seconds: Double = 0, accelerator: String? = nil,
                alpha: Double = RegressionThresholds.default.alpha, minimumMilliseconds: Double = RegressionThresholds.default.minimumMilliseconds,
                minimumRelative: Double = RegressionThresholds.default.minimumRelative, seeking: [PatchVerdict] = PatchVerdict.bad, started: String? = nil,
                shard: ShardRecord? = nil, patchset: [SeriesPatch]? = nil, git: GitSource? = nil, config: String? = nil) {
        self.mode = mode
        self.series = series
        self.seriesLength = seriesLength
        self.base = base
        self.patches = patches
        self.bisection = bisection
        self.firstBad = firstBad
        self.firstBadByVerdict = firstBadByVerdict
        self.reproduce = reproduce
        self.couldNotValidate = couldNotValidate
        self.builds = builds
        self.cachedBuilds = cachedBuilds
        self.seconds = seconds
        self.accelerator = accelerator
        self.alpha = alpha
        self.minimumMilliseconds = minimumMilliseconds
        self.minimumRelative = minimumRelative
        self.seeking = seeking
        self.started = started
        self.shard = shard
        self.patchset = patchset
        self.git = git
        self.config = config
    }

    /// `date` as ``started`` records it: ISO 8601, UTC, whole seconds.
    public static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

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
