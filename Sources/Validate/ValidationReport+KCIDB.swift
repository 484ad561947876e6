import Foundation
import KsandFoundation
import Sandbox

extension ValidationReport {
    /// The report as a KCIDB v5.3 document, every object's origin `origin` and its ID `ORIGIN:HASH`.
    ///
    /// One checkout per prefix the validation reached (the base, and patches 1...k for each patch judged): its patch
    /// set (the patches 1...k, by name and file URL), ``KCIDBDocument/patchsetHash(_:)`` over their SHA-256s, for a
    /// series from a git tree the tree's name and BASE's commit, `valid` false when the patches do not apply. A
    /// build per prefix that was built or failed to build (PASS or FAIL; x86_64, the compiler and config, the
    /// duration, the compiler's errors as the log excerpt). Tests per built prefix: `ksand.boot` (PASS when every
    /// test's kernel booted), `ksand.tests.SUITE.TEST` for each test, `ksand.boot_time` and `ksand.shutdown_time`
    /// (the median of every run, in ms; FAIL when a test's phase regressed, with both medians in the comment),
    /// `ksand.warnings` (when new warnings were sought) and `ksand.budget` (when a budget was not met).
    ///
    /// IDs hash the series, ``started``, the prefix and the test, so the same report always gives the same
    /// document and another validation other IDs. Every object's `start_time` is ``started``: ksand does not time
    /// each prefix's build and boots apart.
    public func kcidb(origin: String = "ksand") throws(KCIDBOriginError) -> KCIDBDocument {
        try KCIDBDocument.check(origin: origin)
        var document = KCIDBDocument()
        if let base { add(prefix: 0, build: base.build, row: nil, base: base, origin: origin, to: &document) }
        for patch in patches where patch.verdict != .notTested {
            add(prefix: patch.index, build: patch.build, row: patch, base: nil, origin: origin, to: &document)
        }
        return document
    }

    private func add(prefix: Int, build: Build, row: Patch?, base: Base?, origin: String, to document: inout KCIDBDocument) {
        let files = patchset(upTo: prefix)
        let hashes = files.compactMap(\.sha256)
        let patchsetHash = hashes.count == prefix ? KCIDBDocument.patchsetHash(hashes) : nil
        let checkoutID = KCIDBDocument.id(origin: origin, ["checkout", series, started ?? "", String(prefix), patchsetHash ?? ""])
        var misc: [String: JSONValue] = ["series": .string(series), "prefix": .number(Double(prefix))]
        if let row {
            misc["verdicts"] = .array(row.verdicts.map { .string($0.rawValue) })
            if let commit = row.commit { misc["commit"] = .string(commit) }
        }
        let what = prefix == 0 ? "the base of \(series) (no patches)" : "patches 1...\(prefix) of the \(seriesLength) of \(series)"
        document.checkouts.append(KCIDBDocument.Checkout(
            id: checkoutID, origin: origin, treeName: git.map { ($0.tree as NSString).lastPathComponent },
            gitCommitHash: git?.baseCommit.flatMap { $0.count == 40 && $0.allSatisfy(\.isHexDigit) ? $0.lowercased() : nil },
            gitCommitName: git.flatMap { $0.range.components(separatedBy: "..").first }.map(KCIDBDocument.text),
            patchsetFiles: files.map(resource), patchsetHash: patchsetHash,
            comment: KCIDBDocument.text(what + (row.map { ": \"\($0.subject)\"" } ?? "")), startTime: started,
            logExcerpt: build.state == .doesNotApply ? KCIDBDocument.excerpt(Self.buildEvidence(build)) : nil,
            valid: build.state != .doesNotApply, misc: misc))

        guard build.state == .built || build.state == .cached || build.state == .failed else { return }
        let buildID = KCIDBDocument.id(origin: origin, ["build", checkoutID])
        var buildMisc: [String: JSONValue] = ["cached": .bool(build.state == .cached)]
        if let release = build.kernelRelease { buildMisc["kernel_release"] = .string(release) }
        document.builds.append(KCIDBDocument.Build(
            id: buildID, checkoutID: checkoutID, origin: origin,
            comment: KCIDBDocument.text("the kernel of " + what + (build.state == .cached ? ", from the cache" : "")), startTime: started,
            duration: build.seconds.flatMap { $0.isFinite ? $0 : nil }, architecture: "x86_64", compiler: build.compiler.map(KCIDBDocument.text),
            configName: config.map(KCIDBDocument.text), logURL: build.logPath.map { KCIDBDocument.fileURL($0) },
            logExcerpt: build.state == .failed ? KCIDBDocument.excerpt(Self.buildEvidence(build)) : nil,
            status: build.state == .failed ? .fail : .pass, misc: buildMisc))
        guard build.state != .failed else { return }

        func test(_ path: String, _ status: KCIDBDocument.Status, key: String? = nil, comment: String? = nil, excerpt: [String] = [],
                  number: Double? = nil) {
            document.tests.append(KCIDBDocument.Test(
                id: KCIDBDocument.id(origin: origin, ["test", buildID, path, key ?? ""]), buildID: buildID, origin: origin, path: path,
                comment: comment.map(KCIDBDocument.text), logExcerpt: KCIDBDocument.excerpt(excerpt), status: status,
                number: number.flatMap { $0.isFinite ? KCIDBDocument.Number(value: $0, unit: "ms") : nil }, startTime: started,
                misc: key.map { ["test": .string($0)] }))
        }
        if let base {
            if let couldNotValidate {
                test("ksand.tests", .fail, comment: "could not validate: " + couldNotValidate.firstLine, excerpt: [couldNotValidate])
            } else {
                test("ksand.boot", .pass, comment: "every test's kernel booted")
                for id in base.testIDs ?? [] { test(Self.kcidbPath(test: id), .pass, key: id) }
            }
            test("ksand.boot_time", .pass, comment: "median of every run of every test: the reference for patch 1", number: base.bootMilliseconds)
            test("ksand.shutdown_time", .pass, comment: "median of every run of every test: the reference for patch 1",
                 number: base.shutdownMilliseconds)
            return
        }
        guard let row else { return }
        let bootFailures = row.failures.filter { $0.bootFailed ?? row.verdicts.contains(.bootFailed) }
        if bootFailures.isEmpty {
            test("ksand.boot", .pass, comment: "every test's kernel booted")
        } else {
            test("ksand.boot", .fail, comment: "boot-failed: " + bootFailures.map(\.test).joined(separator: ", "),
                 excerpt: bootFailures.flatMap { Self.failureEvidence($0) + $0.consoleTail })
        }
        for id in row.testIDs ?? Self.testIDs(row) {
            if let failure = row.failures.first(where: { $0.test == id }) {
                test(Self.kcidbPath(test: id), .fail, key: id, comment: Self.failureEvidence(failure).first,
                     excerpt: failure.reasons + (failure.consoleTail.isEmpty ? [] : ["console, last lines:"] + failure.consoleTail))
            } else {
                test(Self.kcidbPath(test: id), .pass, key: id)
            }
        }
        let reference = row.comparedWith.map { $0 == 0 ? "the base's" : $0 == row.index - 1 ? "the parent's" : "patch \($0)'s" } ?? "the parent's"
        for (phase, value) in [(TimedPhase.boot, row.bootMilliseconds), (.shutdown, row.shutdownMilliseconds)] {
            let slower = row.timing.filter { $0.phase == phase && $0.outcome == .slower }
            let path = "ksand.\(phase.rawValue)_time"
            if slower.isEmpty {
                test(path, .pass, comment: "median of every run of every test", number: value)
            } else {
                let findings = slower.map {
                    "\($0.test) \(phase.rawValue): \(reference) median \(Int($0.parentMedianMilliseconds.rounded())) ms, this patch's "
                        + "\(Int($0.patchMedianMilliseconds.rounded())) ms"
                }
                test(path, .fail, comment: "regressed: " + findings.joined(separator: "; "), excerpt: Self.timingEvidence(row, phase: phase), number: value)
            }
        }
        if seeking.contains(.newWarnings) {
            test("ksand.warnings", row.verdicts.contains(.newWarnings) ? .fail : .pass,
                 comment: row.newWarnings.isEmpty ? "no new warnings in the files it touches" : "new-warnings: \(row.newWarnings.count)",
                 excerpt: Self.warningEvidence(row))
        }
        if !row.breaches.isEmpty {
            test("ksand.budget", row.verdicts.contains(.budgetBreached) ? .fail : .pass, comment: Self.budgetEvidence(row).first,
                 excerpt: Self.budgetEvidence(row))
        }
    }

    /// The series' patches 1...`prefix`: from ``patchset``, else (a report written before it) the rows that are there.
    private func patchset(upTo prefix: Int) -> [SeriesPatch] {
        if let patchset { return patchset.filter { $0.index <= prefix } }
        return patches.filter { $0.index <= prefix }.map { SeriesPatch(index: $0.index, subject: $0.subject, sha256: $0.sha256, commit: $0.commit) }
    }

    /// A patch as a KCIDB resource: its file's name and URL, or for a patch from an mbox or a git tree a name as
    /// `git format-patch` would give it and the mbox's or tree's URL with the patch's commit (else its place) as
    /// the fragment.
    private func resource(_ patch: SeriesPatch) -> KCIDBDocument.Resource {
        if let file = patch.file, case let name = (file as NSString).lastPathComponent, !name.isEmpty {
            return .init(name: KCIDBDocument.text(name), url: KCIDBDocument.fileURL(file))
        }
        let slug = patch.subject.unicodeScalars.map { $0.isASCII && CharacterSet.alphanumerics.contains($0) ? String($0) : "-" }.joined()
            .split(separator: "-").joined(separator: "-").prefix(52)
        let name = String(repeating: "0", count: max(0, 4 - String(patch.index).count)) + "\(patch.index)-\(slug.isEmpty ? "patch" : slug).patch"
        return .init(name: name, url: KCIDBDocument.fileURL(git?.tree ?? series, fragment: patch.commit ?? String(patch.index)))
    }

    /// `ksand.tests.SUITE.TEST` for a test `SUITE/TEST`, `ksand.tests.command` for `--command`.
    static func kcidbPath(test id: String) -> String {
        (["ksand", "tests"] + id.split(separator: "/", omittingEmptySubsequences: false).map { KCIDBDocument.pathComponent(String($0)) })
            .joined(separator: ".")
    }
}
