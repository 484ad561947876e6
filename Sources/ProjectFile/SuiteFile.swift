import BootTimeline
import Foundation
import TOMLKit

/// A file of integration tests (`suites/*.toml`): each test boots a fresh sandbox, runs a command, and checks its
/// exit status, its output and the run's budgets.
///
/// ```toml
/// [suite]
/// description = "What the sandbox guarantees"
/// start = "snapshot"             # or "cold"; default: cold where a boot budget applies, else snapshot
///
/// [budgets.tcg]                  # for every test in this file; a test's own [test.budgets.*] wins
/// shutdown = "300ms"
///
/// [[test]]
/// name = "root-is-read-only"
/// command = "touch /usr/ksand-probe"      # a string runs under /bin/sh -c; an array is the argv itself
/// setup = ["mkdir -p /tmp/work"]          # shell steps run first in the same sandbox; their output goes to stderr
/// host-after = ["test ! -e /usr/ksand-probe"]   # shell steps run on the host once the sandbox is gone
/// timeout = 60
/// env = { LANG = "C" }
/// append = ["quiet"]                      # extra kernel arguments
/// user = "0"                              # run as UID[:GID] inside the guest (default: the caller)
/// start = "cold"                          # boot, or start from the snapshot ("snapshot"); wins over [suite] start
/// [test.expect]
/// status = 1                              # default 0
/// stdout = "exact text\n"                 # or stdout-matches = "regex" (searched, not anchored)
/// stderr-matches = "Read-only file system"
/// [test.budgets.tcg]
/// shutdown = "100ms"
/// ```
public struct SuiteFile: Sendable {
    public var path: String
    /// The file's name without `.toml`.
    public var name: String { URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
    public var description: String?
    /// How the suite's tests start, when the suite says.
    public var start: Timeline.Start?
    public var budgets: [String: Budget]
    public var tests: [SuiteTest]

    public init(contentsOf path: String) throws(ProjectFileError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ProjectFileError(path: path, message: "cannot be read")
        }
        try self.init(parsing: text, path: path)
    }

    public init(parsing text: String, path: String) throws(ProjectFileError) {
        self.path = path
        let table = try TOMLText.parse(text, path: path)
        let reader = TableReader(path: path)
        try reader.requireOnly(["suite", "budgets", "test"], in: table, section: nil)
        if let suite = try reader.table("suite", in: table) {
            try reader.requireOnly(["description", "start"], in: suite, section: "suite")
            description = try reader.string("description", in: suite, section: "suite")
            start = try reader.start(in: suite, section: "suite")
        }
        budgets = try reader.budgets(in: table, section: "budgets")
        guard let array = table["test"]?.array else {
            throw ProjectFileError(path: path, message: "no tests: add at least one [[test]] table with a name and a command")
        }
        tests = []
        for (index, element) in array.enumerated() {
            guard let testTable = element.table else {
                throw ProjectFileError(path: path, message: "test #\(index + 1) must be a [[test]] table")
            }
            let test = try SuiteTest(table: testTable, index: index, reader: reader)
            if tests.contains(where: { $0.name == test.name }) {
                throw ProjectFileError(path: path, message: "two tests are named '\(test.name)'; names must be unique in a suite")
            }
            tests.append(test)
        }
    }

    /// Every `*.toml` in `directory`, sorted by name.
    public static func discover(in directory: String) throws(ProjectFileError) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ProjectFileError(path: directory, message: "is not a readable directory of suite files")
        }
        return names.filter { $0.hasSuffix(".toml") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }
}

/// One declared test.
public struct SuiteTest: Sendable, Equatable {
    public struct Expectation: Sendable, Equatable {
        public var status: Int32 = 0
        public var stdout: String?
        public var stdoutMatches: String?
        public var stderr: String?
        public var stderrMatches: String?

        public init(status: Int32 = 0, stdout: String? = nil, stdoutMatches: String? = nil, stderr: String? = nil, stderrMatches: String? = nil) {
            self.status = status
            self.stdout = stdout
            self.stdoutMatches = stdoutMatches
            self.stderr = stderr
            self.stderrMatches = stderrMatches
        }
    }

    public var name: String
    /// The argv to run: an array as written, or `/bin/sh -c TEXT` for a string.
    public var command: [String]
    public var setup: [String] = []
    public var hostAfter: [String] = []
    public var expect = Expectation()
    public var timeout: Double?
    public var environment: [String: String] = [:]
    public var kernelArguments: [String] = []
    /// UID and GID to run as inside the guest; nil runs as the caller.
    public var user: (uid: UInt32, gid: UInt32)?
    public var budgets: [String: Budget] = [:]
    /// Boot, or start from the snapshot of the machine's boot; nil: the suite's choice, else the default.
    public var start: Timeline.Start?

    public static func == (a: SuiteTest, b: SuiteTest) -> Bool {
        a.name == b.name && a.command == b.command && a.setup == b.setup && a.hostAfter == b.hostAfter && a.expect == b.expect
            && a.timeout == b.timeout && a.environment == b.environment && a.kernelArguments == b.kernelArguments
            && a.user?.uid == b.user?.uid && a.user?.gid == b.user?.gid && a.budgets == b.budgets && a.start == b.start
    }

    public init(name: String, command: [String]) {
        self.name = name
        self.command = command
    }

    init(table: TOMLTable, index: Int, reader: TableReader) throws(ProjectFileError) {
        let known = ["name", "command", "setup", "host-after", "expect", "timeout", "env", "append", "user", "budgets", "start"]
        guard let name = try reader.string("name", in: table, section: "test #\(index + 1)"), !name.isEmpty else {
            throw ProjectFileError(path: reader.path, message: "test #\(index + 1) has no name: add name = \"…\"")
        }
        let section = "test \(name)"
        try reader.requireOnly(known, in: table, section: section)
        if let text = table["command"]?.string {
            command = ["/bin/sh", "-c", text]
        } else if let argv = try reader.strings("command", in: table, section: section), !argv.isEmpty {
            command = argv
        } else {
            throw ProjectFileError(path: reader.path, message: "[\(section)] has no command: add command = \"…\" (run by /bin/sh -c) or an argv array")
        }
        self.name = name
        setup = try reader.strings("setup", in: table, section: section) ?? []
        hostAfter = try reader.strings("host-after", in: table, section: section) ?? []
        timeout = try reader.seconds("timeout", in: table, section: section)
        kernelArguments = try reader.strings("append", in: table, section: section) ?? []
        if let text = try reader.string("user", in: table, section: section) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { UInt32($0) }
            guard (1...2).contains(parts.count), let uid = parts[0], let gid = parts.count == 2 ? parts[1] : parts[0] else {
                throw ProjectFileError(path: reader.path, message: "[\(section)] user = \"\(text)\": expected \"UID\" or \"UID:GID\" (numbers)")
            }
            user = (uid, gid)
        }
        if let env = try reader.table("env", in: table) {
            for (key, value) in env {
                guard let text = value.string else { throw ProjectFileError(path: reader.path, message: "[\(section)] env.\(key) must be a string") }
                environment[key] = text
            }
        }
        budgets = try reader.budgets(in: table, section: section + " budgets")
        start = try reader.start(in: table, section: section)
        if let expectTable = try reader.table("expect", in: table) {
            let expectSection = section + " expect"
            try reader.requireOnly(["status", "stdout", "stdout-matches", "stderr", "stderr-matches"], in: expectTable, section: expectSection)
            if let status = try reader.integer("status", in: expectTable, section: expectSection, range: 0...255) { expect.status = Int32(status) }
            expect.stdout = try reader.string("stdout", in: expectTable, section: expectSection)
            expect.stderr = try reader.string("stderr", in: expectTable, section: expectSection)
            expect.stdoutMatches = try reader.pattern("stdout-matches", in: expectTable, section: expectSection)
            expect.stderrMatches = try reader.pattern("stderr-matches", in: expectTable, section: expectSection)
        }
    }
}

enum TOMLText {
    static func parse(_ text: String, path: String) throws(ProjectFileError) -> TOMLTable {
        if let problem = TOMLPreflight.firstProblem(in: text) { throw ProjectFileError(path: path, message: problem.message) }
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ProjectFileError(path: path, message: "\(error.description) (line \(error.source.begin.line), column \(error.source.begin.column))")
        } catch {
            throw ProjectFileError(path: path, message: "\(error)")
        }
    }
}

extension TableReader {
    /// A regular expression, checked here so a typo fails when the file is read, not after a boot.
    func pattern(_ key: String, in table: TOMLTable, section: String) throws(ProjectFileError) -> String? {
        guard let text = try string(key, in: table, section: section) else { return nil }
        do {
            _ = try Regex(text)
        } catch {
            throw ProjectFileError(path: path, message: "[\(section)] \(key) = \"\(text)\" is not a valid regular expression: \(error)")
        }
        return text
    }
}
