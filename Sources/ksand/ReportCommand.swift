import ArgumentParser
import Foundation
import KsandFoundation
import Sandbox
import Suites
import Validate

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Work with ksand's JSON reports.",
        subcommands: [ReportMergeCommand.self]
    )
}

struct ReportMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the JSON reports of the shards of one run into the report of the whole run.",
        discussion: """
            Takes the --json reports of `ksand test --shard K/N` (one per shard, in any order) and writes the report
            the whole run would have written: every test once, in plan order, counts recomputed, the longest shard's
            seconds, and with --junit the same JUnit XML. The reports must be shards of one plan (the same N and
            number of tests), each shard once, each with all its tests. Exit status 0 when every test passed, 1 on
            any failure, 125 when the reports cannot be merged (unreadable, not a ksand report, of another kind or
            plan, a shard or test twice, a shard missing), with the file and what to do.

            The --json reports of `ksand validate --shard K/N` merge the same way into the validation of the whole
            series: every patch once, in order, builds summed, the first bad patch found again; they must be shards
            of one validation (the same series, N and --for). Exit status as `ksand validate`'s: 0 every patch is
            good, 1 a bad patch was found, 125 the series could not be validated or the reports cannot be merged.
            """
    )

    @Argument(help: ArgumentHelp("The shards' reports (`ksand test|validate --shard K/N --json REPORT.json`).", valueName: "REPORT.json"))
    var reports: [String]
    @Option(help: ArgumentHelp("Write the merged JSON report to this file.", valueName: "FILE")) var json: String
    @Option(help: ArgumentHelp("Also write the merged report as JUnit XML to this file.", valueName: "FILE")) var junit: String?
    @Flag(help: "Merge what there is when shards, or tests of a shard, are missing (say which, and exit as the rest did).")
    var allowMissing = false

    func run() throws {
        let merged: MergedReports
        do {
            let inputs = try reports.map { path throws(ReportError) in
                guard let data = FileManager.default.contents(atPath: absolute(path)) else {
                    throw ReportError(file: path, problem: .unreadable(FileManager.default.fileExists(atPath: absolute(path))
                        ? "not a readable file" : "no such file"))
                }
                return (file: path, data: data)
            }
            let kind = try ReportKind.common(inputs) ?? ReportKind.test
            guard let merge = Self.mergers[kind] else {
                throw ReportError(file: inputs[0].file, problem: .unknownKind(kind, known: Self.mergers.keys.sorted()))
            }
            merged = try merge(inputs, allowMissing)
        } catch let error as ReportError {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        for warning in merged.warnings { report("warning: " + warning) }
        print(merged.summary)
        for (path, contents) in [(json, merged.json), junit.map { ($0, Data(merged.junit().utf8)) }].compactMap({ $0 }) {
            guard FileManager.default.createFile(atPath: absolute(path), contents: contents) else {
                report("error: cannot write the merged report to \(path)")
                throw ExitCode(SandboxExitCode.setupError.rawValue)
            }
        }
        if merged.status != 0 { throw ExitCode(merged.status) }
    }

    /// What a merge gave, whatever the kind of report: the documents to write, the verdict, what to tell the user.
    struct MergedReports {
        var json: Data
        var junit: () -> String
        /// The exit status the merged run would have had.
        var status: Int32
        var summary: String
        var warnings: [String]
    }

    /// Merges reports (file, contents) of one kind, allowing missing parts or not.
    typealias Merger = @Sendable ([(file: String, data: Data)], Bool) throws(ReportError) -> MergedReports

    /// How to merge each kind of report (``ReportKind``), by kind. A new kind of report is one more entry.
    static let mergers: [String: Merger] = [
        ReportKind.test: mergeTestReports,
        ReportKind.validate: mergeValidationReports,
    ]

    static func mergeTestReports(_ inputs: [(file: String, data: Data)], allowMissing: Bool) throws(ReportError) -> MergedReports {
        var documents: [(file: String, document: SuiteReport.Document)] = []
        for (file, data) in inputs { documents.append((file, try SuiteReport.Document.read(data, file: file))) }
        let merge = try SuiteReport.Document.merge(documents, allowMissing: allowMissing)
        let document = merge.document
        var warnings: [String] = []
        if !merge.missingShards.isEmpty {
            warnings.append("shard\(merge.missingShards.count == 1 ? "" : "s") "
                + merge.missingShards.map(\.description).joined(separator: ", ") + " missing")
        }
        if !merge.missingTests.isEmpty {
            warnings.append("\(merge.missingTests.count) of the plan's \(merge.planned) tests are not in the merged report")
        }
        var summary = ["\(merge.shards.count) shard\(merge.shards.count == 1 ? "" : "s"), \(document.counts.total) test"
            + "\(document.counts.total == 1 ? "" : "s"): \(document.counts.total - document.counts.failed) passed, \(document.counts.failed) failed"]
        summary += document.tests.filter { !$0.passed }.map { "FAIL \($0.id)" }
        guard let json = try? JSONDocument.prettyPrinted(document) else {
            throw ReportError(file: inputs.first?.file, problem: .malformed(kind: ReportKind.test, reason: "a number JSON cannot write"))
        }
        return MergedReports(json: json, junit: { document.junit() }, status: document.passed ? 0 : 1, summary: summary.joined(separator: "\n"),
                             warnings: warnings)
    }

    static func mergeValidationReports(_ inputs: [(file: String, data: Data)], allowMissing: Bool) throws(ReportError) -> MergedReports {
        var reports: [(file: String, report: ValidationReport)] = []
        for (file, data) in inputs { reports.append((file, try ValidationReport.read(data, file: file))) }
        let merge = try ValidationReport.merge(reports, allowMissing: allowMissing)
        let merged = merge.report
        var warnings: [String] = []
        if !merge.missingShards.isEmpty {
            warnings.append("shard\(merge.missingShards.count == 1 ? "" : "s") "
                + merge.missingShards.map(\.description).joined(separator: ", ") + " missing")
        }
        if !merge.missingPatches.isEmpty {
            warnings.append("\(merge.missingPatches.count) of the series' \(merged.seriesLength) patches are not in the merged report: "
                + merge.missingPatches.map(String.init).joined(separator: ", "))
        }
        guard let json = try? JSONDocument.prettyPrinted(merged) else {
            throw ReportError(file: inputs.first?.file, problem: .malformed(kind: ReportKind.validate, reason: "a number JSON cannot write"))
        }
        return MergedReports(json: json, junit: { merged.junit() }, status: merged.exitStatus,
                             summary: "\(merge.shards.count) shard\(merge.shards.count == 1 ? "" : "s")\n" + merged.text(), warnings: warnings)
    }
}
