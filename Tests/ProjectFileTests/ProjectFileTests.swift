import Foundation
@testable import ProjectFile
import Testing

@Suite struct ProjectFileTests {
    @Test func everyKeyIsReadAndRelativePathsAreAnchoredAtTheFile() throws {
        let text = """
            [kernel]
            source = "/usr/src/linux-source-6.1.tar.xz"
            base = "tinyconfig"
            fragments = ["kernel-config/sandbox.config", "../shared/extra.config"]
            series = "patches/series"
            jobs = 4

            [sandbox]
            kernel = "built"
            accel = "tcg"
            machine = "microvm"
            memory = 256
            cpus = 2
            timeout = 90
            append = ["quiet", "loglevel=3"]

            [budgets.tcg]
            boot = "2.5s"
            shutdown = "300ms"
            [budgets.kvm]
            boot = "400ms"

            [test]
            suites = "checks"
            """
        let project = try ProjectFile(parsing: text, path: "/work/app/ksand.toml")
        #expect(project.budgets == ["tcg": Budget(boot: 2.5, shutdown: 0.3), "kvm": Budget(boot: 0.4)])
        #expect(project.suites == "/work/app/checks")
        #expect(project.kernel.source == "/usr/src/linux-source-6.1.tar.xz")
        #expect(project.kernel.base == "tinyconfig")
        #expect(project.kernel.fragments == ["/work/app/kernel-config/sandbox.config", "/work/shared/extra.config"])
        #expect(project.kernel.series == "/work/app/patches/series")
        #expect(project.kernel.jobs == 4)
        #expect(project.sandbox == .init(kernel: "built", accel: "tcg", machine: "microvm", memory: 256, cpus: 2, timeout: 90, append: ["quiet", "loglevel=3"]))
    }

    @Test func aBackendHasLimitsOfItsOwnOnAnAccelerator() throws {
        let text = "[budgets.kvm]\nboot = \"400ms\"\n[budgets.kvm.libvirt]\nboot = \"1.5s\"\nshutdown = \"300ms\"\n"
        let project = try ProjectFile(parsing: text, path: "f")
        #expect(project.budgets == ["kvm": Budget(boot: 0.4), "kvm.libvirt": Budget(boot: 1.5, shutdown: 0.3)])
        #expect(throws: ProjectFileError(path: "f", message: "unknown key 'virtualbox' in [budgets.tcg]; known: boot, shutdown, qemu, libvirt")) {
            try ProjectFile(parsing: "[budgets.tcg.virtualbox]\nboot = \"1s\"\n", path: "f")
        }
        #expect(throws: ProjectFileError(path: "f", message: "unknown key 'boot-time' in [budgets.tcg.libvirt]; known: boot, shutdown")) {
            try ProjectFile(parsing: "[budgets.tcg.libvirt]\nboot-time = \"1s\"\n", path: "f")
        }
        #expect(throws: ProjectFileError(path: "f", message: "[budgets.tcg.libvirt] must be a table")) {
            try ProjectFile(parsing: "[budgets.tcg]\nlibvirt = \"1s\"\n", path: "f")
        }
    }

    @Test func aBaseFileIsAPathAndAnEmptySeriesMeansNoPatches() throws {
        let project = try ProjectFile(parsing: "[kernel]\nbase = \"configs/base.config\"\nseries = \"\"\n", path: "/p/ksand.toml")
        #expect(project.kernel.base == "/p/configs/base.config")
        #expect(project.kernel.series == "")
        #expect(project.sandbox.kernel == nil)
    }

    @Test func aTypoIsNamedWithTheKeysThatExist() {
        #expect(throws: ProjectFileError(path: "/p/ksand.toml", message: "unknown key 'fragment' in [kernel]; known: source, base, fragments, series, jobs")) {
            try ProjectFile(parsing: "[kernel]\nfragment = [\"a.config\"]\n", path: "/p/ksand.toml")
        }
        #expect(throws: ProjectFileError(path: "/p/ksand.toml", message: "unknown section 'budget' at the top level; known: kernel, sandbox, budgets, test")) {
            try ProjectFile(parsing: "[budget]\nboot = 3\n", path: "/p/ksand.toml")
        }
    }

    @Test func aWrongTypeOrValueSaysWhatIsExpected() {
        #expect(throws: ProjectFileError(path: "f", message: "[kernel] fragments must be an array of strings")) {
            try ProjectFile(parsing: "[kernel]\nfragments = \"a.config\"\n", path: "f")
        }
        #expect(throws: ProjectFileError(path: "f", message: "[sandbox] machine = \"pc\": expected one of auto, q35, microvm")) {
            try ProjectFile(parsing: "[sandbox]\nmachine = \"pc\"\n", path: "f")
        }
        #expect(throws: ProjectFileError(path: "f", message: "[sandbox] cpus must be an integer from 1 to 256")) {
            try ProjectFile(parsing: "[sandbox]\ncpus = 0\n", path: "f")
        }
    }

    /// Seconds ksand could not wait or print (it converts them to whole milliseconds): `inf`, `1e300`, `"1e300s"`.
    @Test func timeoutsAndBudgetsAreAtMostAWeek() throws {
        let expected = "[sandbox] timeout must be a positive number of seconds, at most 604800 (a week)"
        for value in ["inf", "1e300", "604801", "0", "-1", "nan"] {
            #expect(throws: ProjectFileError(path: "f", message: expected), "\(value)") {
                try ProjectFile(parsing: "[sandbox]\ntimeout = \(value)\n", path: "f")
            }
        }
        #expect(try ProjectFile(parsing: "[sandbox]\ntimeout = 604800\n", path: "f").sandbox.timeout == 604800)
        #expect(throws: ProjectFileError(path: "f", message: "[budgets.tcg] boot = \"1e300s\": longer than a week, the longest duration ksand accepts")) {
            try ProjectFile(parsing: "[budgets.tcg]\nboot = \"1e300s\"\n", path: "f")
        }
        #expect(throws: ProjectFileError(path: "f", message: "[budgets.kvm] shutdown = \"1e308m\": longer than a week, the longest duration ksand accepts")) {
            try ProjectFile(parsing: "[budgets.kvm]\nshutdown = \"1e308m\"\n", path: "f")
        }
    }

    @Test func aSyntaxErrorNamesTheLine() {
        do {
            _ = try ProjectFile(parsing: "[kernel]\nbase = tinyconfig\n", path: "/p/ksand.toml")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.description.hasPrefix("/p/ksand.toml: "))
            #expect(error.description.contains("line 2"), "\(error)")
        }
    }

    /// Found by fuzzing (Fuzz/regressions/toml): toml++ inside TOMLKit asserts, and so aborted ksand, on a table
    /// header whose name does not start with a key character, and on an array element that does not start a value.
    @Test func whatTomlPlusPlusWouldAbortOnIsAnError() {
        let header = TOMLPreflight.headerName, element = TOMLPreflight.arrayElement
        for (text, expected, found, line, column) in [
            ("[\u{FFFD}", header, "\u{FFFD}", 1, 2), ("[kernel]\n  [[ {x} ]]\n", header, "{", 2, 6), ("a = 1\n[=]", header, "=", 2, 2),
            ("\u{FEFF}[.a]", header, ".", 1, 2), ("[\r\r\rkernel]", header, "\\r", 1, 2),
            ("append = [[[}]]]", element, "}", 1, 13), ("x = [\n  1, # one\n  }]", element, "}", 3, 3), ("x = {a = [\u{2028}]}", element, "\u{2028}", 1, 11),
        ] {
            #expect(throws: ProjectFileError(path: "f", message: "\(expected), not with '\(found)' (line \(line), column \(column))")) {
                try ProjectFile(parsing: text, path: "f")
            }
        }
    }

    /// Lines that start with `[` inside a multi-line array or string are values, not headers; strings, comments and
    /// inline tables hold what they like.
    @Test func bracketsInValuesAreNotHeaders() throws {
        let text = """
            [sandbox]
            append = [
              "quiet", # [not a header
              [ ], [{ a = "}" }, '[', '''
            [}'''],
            ]
            [test]
            suites = '''
            [\u{e9}'''
            """
        #expect(TOMLPreflight.firstProblem(in: text) == nil)
        #expect(TOMLPreflight.firstProblem(in: "x = [\n  [+1],\n  [{a = 1}],\n]\ny = \"\"\"\n[\n\"\"\"\n[\"quoted\"]\n") == nil)
    }

    @Test func theNearestProjectFileIsFoundFromASubdirectory() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-project-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/src/deep", withIntermediateDirectories: true)
        try "[kernel]\n".write(toFile: root + "/ksand.toml", atomically: true, encoding: .utf8)
        #expect(ProjectFile.find(from: root + "/src/deep") == root + "/ksand.toml")
        #expect(ProjectFile.find(from: "/proc/self") == nil)
    }

    @Test func theRepositorysOwnProjectFileParses() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let project = try ProjectFile(contentsOf: repository + "/ksand.toml")
        #expect(project.kernel.fragments == [repository + "/kernel-config/sandbox.config"])
        #expect(project.kernel.series == repository + "/patches/series")
    }
}
