@_exported import BootTimeline
import Foundation
import TOMLKit

/// `ksand.toml`, the project file: where the kernel comes from and how it is configured, and the defaults of
/// `ksand run`. Relative paths in it are relative to the file's directory.
///
/// ```toml
/// [kernel]
/// source = "/usr/src/linux-source-6.1.tar.xz"   # a source directory or tarball
/// base = "tinyconfig"                            # tinyconfig, allnoconfig, defconfig or a .config file
/// fragments = ["kernel-config/sandbox.config"]   # merged in order; later fragments win
/// series = "patches/series"                      # quilt series; "" for none
///
/// [sandbox]
/// kernel = "built"                               # the kernel `ksand kernel build` made, or a bzImage path
/// accel = "auto"
/// machine = "auto"
/// memory = 512
/// cpus = 1
/// timeout = 120
/// append = ["quiet"]
///
/// [budgets.tcg]                                  # what `ksand test` enforces, per accelerator
/// boot = "2.5s"                                  # vmm + kernel + init
/// shutdown = "300ms"                             # shutdown + teardown
/// [budgets.kvm]
/// boot = "400ms"
/// [budgets.kvm.libvirt]                          # a backend's own limits on an accelerator
/// boot = "700ms"
///
/// [test]
/// suites = "suites"                              # where `ksand test` finds *.toml suites
/// ```
///
/// An unknown section or key is an error naming it, so a typo never goes unnoticed.
public struct ProjectFile: Equatable, Sendable {
    public struct Kernel: Equatable, Sendable {
        public var source: String?
        public var base: String?
        public var fragments: [String]?
        /// The series file; the empty string means no patches.
        public var series: String?
        public var jobs: Int?
    }

    public struct SandboxDefaults: Equatable, Sendable {
        /// `built` or a bzImage path.
        public var kernel: String?
        public var accel: String?
        public var machine: String?
        public var memory: Int?
        public var cpus: Int?
        public var timeout: Double?
        public var append: [String]?
        /// `qemu` or `libvirt`.
        public var backend: String?
        /// The libvirt connection URI.
        public var connect: String?
    }

    public static let fileName = "ksand.toml"

    /// The file it was read from.
    public var path: String
    public var kernel = Kernel()
    public var sandbox = SandboxDefaults()
    /// Budgets by accelerator (`tcg`, `kvm`).
    public var budgets: [String: Budget] = [:]
    /// The directory of suite files `ksand test` runs by default.
    public var suites: String?

    /// The directory relative paths are resolved against.
    public var directory: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    /// Parses the text of a project file; `path` names it in errors and anchors relative paths.
    public init(parsing text: String, path: String) throws(ProjectFileError) {
        self.path = path
        let table = try TOMLText.parse(text, path: path)
        let reader = TableReader(path: path)
        try reader.requireOnly(["kernel", "sandbox", "budgets", "test"], in: table, section: nil)
        if let kernelTable = try reader.table("kernel", in: table) {
            try reader.requireOnly(["source", "base", "fragments", "series", "jobs"], in: kernelTable, section: "kernel")
            kernel.source = try reader.path("source", in: kernelTable, section: "kernel", relativeTo: directory)
            kernel.base = try reader.string("base", in: kernelTable, section: "kernel")
            if let base = kernel.base, !Self.namedBases.contains(base) { kernel.base = Self.resolve(base, relativeTo: directory) }
            kernel.fragments = try reader.strings("fragments", in: kernelTable, section: "kernel")?.map { Self.resolve($0, relativeTo: directory) }
            kernel.series = try reader.string("series", in: kernelTable, section: "kernel").map { $0.isEmpty ? "" : Self.resolve($0, relativeTo: directory) }
            kernel.jobs = try reader.integer("jobs", in: kernelTable, section: "kernel", range: 1...1024)
        }
        if let sandboxTable = try reader.table("sandbox", in: table) {
            try reader.requireOnly(["kernel", "accel", "machine", "memory", "cpus", "timeout", "append", "backend", "connect"], in: sandboxTable, section: "sandbox")
            sandbox.kernel = try reader.string("kernel", in: sandboxTable, section: "sandbox").map { $0 == "built" ? $0 : Self.resolve($0, relativeTo: directory) }
            sandbox.accel = try reader.choice("accel", ["auto", "kvm", "tcg"], in: sandboxTable, section: "sandbox")
            sandbox.machine = try reader.choice("machine", ["auto", "q35", "microvm"], in: sandboxTable, section: "sandbox")
            sandbox.memory = try reader.integer("memory", in: sandboxTable, section: "sandbox", range: 64...1_048_576)
            sandbox.cpus = try reader.integer("cpus", in: sandboxTable, section: "sandbox", range: 1...256)
            sandbox.timeout = try reader.seconds("timeout", in: sandboxTable, section: "sandbox")
            sandbox.append = try reader.strings("append", in: sandboxTable, section: "sandbox")
            sandbox.backend = try reader.choice("backend", ["qemu", "libvirt"], in: sandboxTable, section: "sandbox")
            sandbox.connect = try reader.string("connect", in: sandboxTable, section: "sandbox")
        }
        budgets = try reader.budgets(in: table, section: "budgets")
        if let testTable = try reader.table("test", in: table) {
            try reader.requireOnly(["suites"], in: testTable, section: "test")
            suites = try reader.path("suites", in: testTable, section: "test", relativeTo: directory)
        }
    }

    /// Reads the project file at `path`.
    public init(contentsOf path: String) throws(ProjectFileError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ProjectFileError(path: path, message: "cannot be read")
        }
        try self.init(parsing: text, path: path)
    }

    /// The nearest `ksand.toml` in `directory` or one of its parents.
    public static func find(from directory: String) -> String? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            let candidate = (current as NSString).appendingPathComponent(fileName)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return nil }
            current = parent
        }
    }

    /// The base configurations make knows by name; anything else is a file.
    public static let namedBases: Set<String> = ["tinyconfig", "allnoconfig", "defconfig"]

    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return NSHomeDirectory() + path.dropFirst() }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
    }
}

/// A project file that cannot be used: which file, where, and what is wrong.
public struct ProjectFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { "\(path): \(message)" }
}
