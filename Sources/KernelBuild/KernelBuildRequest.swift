import Foundation
import KernelSource

/// Everything that decides which kernel gets built.
public struct KernelBuildRequest: Sendable {
    /// The configuration make starts from before the fragments are merged.
    public enum Base: Sendable, Equatable, CustomStringConvertible {
        case tinyconfig, allnoconfig, defconfig
        /// A `.config` file, such as /boot/config-$(uname -r).
        case file(String)

        /// `tinyconfig`, `allnoconfig`, `defconfig`, or a path.
        public init(_ text: String) {
            switch text {
            case "tinyconfig": self = .tinyconfig
            case "allnoconfig": self = .allnoconfig
            case "defconfig": self = .defconfig
            default: self = .file(text)
            }
        }

        public var description: String {
            switch self {
            case .tinyconfig: "tinyconfig"
            case .allnoconfig: "allnoconfig"
            case .defconfig: "defconfig"
            case .file(let path): path
            }
        }
    }

    /// The kernel source: a directory or a tarball. Default: Debian's linux-source-6.1 tarball.
    public var source: String
    /// Patch in the user's directory source itself instead of a copy in the cache.
    public var inPlace: Bool
    /// The quilt series file; nil for none.
    public var series: String?
    /// Patches applied after the series, in order.
    public var extraPatches: [String]
    /// The patches to apply, in order, in place of the series and the extra patches (a prefix of a series being
    /// validated); nil to use those.
    public var patchList: [PatchApplier.Patch]?
    /// Files (relative to the tree) to compile again in every build that runs make, whether or not the patches
    /// changed them, so that the build's log holds all of their warnings (see ``BuildDiagnosticsRecord``). A cached
    /// kernel whose build did not recompile them is built again, incrementally, to read them.
    public var recompile: [String] = []
    public var base: Base
    /// Fragments merged onto the base, in order; later ones win.
    public var fragments: [String]
    /// make's -j.
    public var jobs: Int
    /// The root of ksand's cache.
    public var cacheRoot: String
    public var architecture = "x86_64"
    /// `gcc` or another compiler; make uses it as CC.
    public var compiler = "gcc"

    public static let defaultSource = "/usr/src/linux-source-6.1.tar.xz"

    public init(
        source: String = KernelBuildRequest.defaultSource, inPlace: Bool = false, series: String?, extraPatches: [String] = [],
        base: Base = .tinyconfig, fragments: [String], jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
        cacheRoot: String
    ) {
        self.source = source
        self.inPlace = inPlace
        self.series = series
        self.extraPatches = extraPatches
        self.base = base
        self.fragments = fragments
        self.jobs = jobs
        self.cacheRoot = cacheRoot
    }

    /// Where the kernel cache lives: `<cache>/kernel`.
    var kernelCache: String { cacheRoot + "/kernel" }
}
