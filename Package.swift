// swift-tools-version: 6.2
import PackageDescription

// Linux only: the host side calls Glibc and the guest init is a static Linux executable. SwiftPM has no platform
// entry for Linux, so `platforms` is left out rather than naming one the package does not build on.
let package = Package(
    name: "ksand",
    products: [
        .executable(name: "ksand", targets: ["ksand"]),
        .executable(name: "ksand-init", targets: ["SandboxInit"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // libarchive, seen from Swift: module map and header only.
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        // libvirt's C API, seen from Swift: module map and header only. LibvirtBackend is its one importer.
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        // CPUID and RDTSC, for measuring the host's TSC rate: one header of static inline functions, x86-64 only.
        .systemLibrary(name: "CHostCPU"),
        // posix_spawn's GNU flags, which Swift's Glibc leaves out (they need _GNU_SOURCE), for the detached launcher,
        // and prctl's child-subreaper switch (prctl is variadic).
        .target(name: "CProcessSpawn"),
        // The wire format between the host and the guest init: frames and the run spec. Pure Swift, no Foundation.
        .target(name: "SandboxProtocol"),
        // Syscalls the guest init needs that Glibc does not declare (finit_module).
        .target(name: "CGuestSyscalls"),
        // The guest's /init: statically linked, Glibc only. Mounts, overlays, runs the command, powers off.
        .executableTarget(
            name: "SandboxInit",
            dependencies: ["SandboxProtocol", "CGuestSyscalls"],
            swiftSettings: [.unsafeFlags(["-Osize"])],
            linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "--strip-all"])]
        ),
        // Hex SHA-256 digests for content-addressed cache keys, over swift-crypto's SHA256.
        .target(name: "ContentHash", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // One compressed stream (gzip, xz, zstd, ...) decompressed through libarchive's raw reader: kernel payloads
        // and kernel modules. Owns libarchive's read handle.
        .target(name: "StreamDecompression", dependencies: ["CArchive"]),
        // Reproducible newc initramfs through libarchive, with the kernel-module closure. Owns libarchive's write handle.
        .target(
            name: "Initramfs",
            dependencies: ["CArchive", "ContentHash", "StreamDecompression", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Host tools (git, sh, tar, make) run through swift-subprocess: one way to start, feed, read and stop a child.
        .target(
            name: "HostProcess",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess"), .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Kernel source trees and patch series (quilt `series`, git format-patch files, mbox, git range), applied all or nothing.
        .target(name: "KernelSource", dependencies: ["HostProcess"]),
        // Pure statistics for "did this patch make it slower": the Mann–Whitney U test, effect sizes, the verdict.
        .target(name: "Regression"),
        // Pure console parser: host-timestamped console lines → events → phases.
        .target(name: "BootTimeline"),
        // .config and fragments: parse, merge like merge_config.sh, verify, and explain unmet Kconfig dependencies.
        .target(name: "KernelConfig"),
        // Source tree, patch series, config and make, to a content-addressed kernel in the cache.
        .target(
            name: "KernelBuild",
            dependencies: [
                "KernelSource", "KernelConfig", "ContentHash",
                "HostProcess",
            ]
        ),
        // ksand.toml and suites/*.toml: the project's kernel inputs, sandbox defaults, budgets and declared tests.
        .target(name: "ProjectFile", dependencies: ["BootTimeline", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Small pieces every host-side target uses: ksand's JSON documents, errno text, Unix socket addresses.
        .target(name: "KsandFoundation"),
        // QEMU as ksand drives it: the typed command line, QMP, the KVM boot check, the host TSC rate (for microvm
        // under TCG). Knows nothing of sandboxes.
        .target(
            name: "QEMU",
            dependencies: [
                "KsandFoundation", "CHostCPU",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // SandboxSpec, kernel discovery, the accelerator and machine choice, the backend seam with direct QEMU behind
        // it, the command channel and the reaper.
        .target(
            name: "Sandbox",
            dependencies: [
                "SandboxProtocol", "Initramfs", "StreamDecompression", "KernelConfig", "BootTimeline", "CProcessSpawn",
                "KsandFoundation", "QEMU", "ContentHash",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // libvirt through its C API, the only importer of CLibvirt: connections, domains, streams, the event loop.
        .target(name: "LibvirtBackend", dependencies: ["CLibvirt", "Sandbox", "SandboxProtocol", "QEMU"]),
        // Declared tests: runs suites in fresh sandboxes, checks output and budgets, reports as text, JSON and JUnit.
        .target(name: "Suites", dependencies: ["Sandbox", "ProjectFile", "SandboxProtocol", "HostProcess", "KsandFoundation"]),
        // Patch-by-patch validation of a series: prefixes built and booted, verdicts against the parent, bisection.
        .target(name: "Validate", dependencies: ["KernelBuild", "KernelSource", "Suites", "Sandbox", "Regression", "BootTimeline", "ProjectFile", "ContentHash", "KsandFoundation"]),
        // The thin command-line interface.
        .executableTarget(
            name: "ksand",
            dependencies: [
                "Sandbox", "KernelBuild", "KernelConfig", "KernelSource", "ProjectFile", "Suites", "Validate", "LibvirtBackend",
                "KsandFoundation", "QEMU",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SandboxProtocolTests", dependencies: ["SandboxProtocol"]),
        .testTarget(name: "ContentHashTests", dependencies: ["ContentHash"]),
        // Runs the real tools the tests compare against; shared by the test targets below.
        .target(
            name: "ToolRunner",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess"), .product(name: "SystemPackage", package: "swift-system")],
            path: "Tests/ToolRunner"
        ),
        // The Linux source tree the tests read: the one ksand extracts into its cache, extracted once if needed.
        .target(name: "LinuxSourceTree", dependencies: ["KernelBuild", "Sandbox"], path: "Tests/LinuxSourceTree"),
        .testTarget(name: "KernelBuildTests", dependencies: ["KernelBuild", "KernelSource"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ProjectFileTests", dependencies: ["ProjectFile"]),
        .testTarget(name: "InitramfsTests", dependencies: ["Initramfs", "CArchive", "ToolRunner"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BootTimelineTests", dependencies: ["BootTimeline"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KernelConfigTests", dependencies: ["KernelConfig", "ToolRunner", "LinuxSourceTree"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KernelSourceTests", dependencies: ["KernelSource", "ToolRunner"]),
        .testTarget(name: "RegressionTests", dependencies: ["Regression"]),
        .testTarget(name: "ValidateTests", dependencies: ["Validate", "KernelBuild", "KernelSource", "Regression", "Suites", "Sandbox", "ToolRunner", "KsandFoundation"],
                    exclude: ["Fixtures"]),
        // libvirt for real: errors, URIs, the embedded root, domain XML against libvirt's schema, guests on the embedded driver.
        .testTarget(name: "LibvirtBackendTests", dependencies: ["LibvirtBackend", "KsandFoundation"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "ContentHash", "KernelConfig", "KsandFoundation", "QEMU", .product(name: "Subprocess", package: "swift-subprocess")]),
        .testTarget(name: "QEMUTests", dependencies: ["QEMU", "KsandFoundation", .product(name: "Subprocess", package: "swift-subprocess")]),
        .testTarget(name: "SuitesTests", dependencies: ["Suites", "ProjectFile", "ToolRunner"]),
        // The CI recipes users copy (ci/recipes/), checked by the real linters of ci/python-tools.sh's venv.
        .testTarget(name: "CIRecipeTests", dependencies: ["ToolRunner"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Sandbox", "ContentHash", .product(name: "Subprocess", package: "swift-subprocess"), .product(name: "SystemPackage", package: "swift-system"),
            ],
            exclude: ["HostileInit", "Fixtures"]
        ),
    ]
)

// Coverage-guided fuzz targets (Fuzz/), one per parser of input from outside. Declared only when Fuzz/run.sh builds
// them (KSAND_FUZZ=1, with `--sanitize fuzzer`): without libFuzzer they have no main to link. The package's own
// executables and tests are left out then, so that one `swift build` builds the fuzz targets and what they use.
if Context.environment["KSAND_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("buildlog", ["KernelBuild", "KernelSource"]),
        ("console", ["BootTimeline"]),
        ("conversation", ["SandboxProtocol"]),
        ("dotconfig", ["KernelConfig"]),
        ("frames", ["SandboxProtocol"]),
        ("kconfig", ["KernelConfig"]),
        ("mbox", ["KernelSource"]),
        ("qmp", ["QEMU", "KsandFoundation"]),
        ("series", ["KernelSource"]),
        ("toml", ["ProjectFile"]),
    ]
    package.products = []
    package.targets.removeAll { $0.type == .executable || $0.type == .test }
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/Support"))
    for target in fuzzTargets {
        package.targets.append(.executableTarget(name: "fuzz-\(target.name)", dependencies: target.dependencies + ["FuzzSupport"],
                                                 path: "Fuzz/Targets/\(target.name)"))
    }
}
