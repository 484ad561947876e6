import Foundation

/// Why reports could not be read or merged: the file at fault (nil when the problem is the set of files as a whole)
/// and what is wrong with it, each saying what to do.
public struct ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Error, Equatable, Sendable {
        /// The file could not be read.
        case unreadable(String)
        /// Not JSON at all; why.
        case notJSON(String)
        /// JSON, but not a ksand report: no `kind`, and not the keys of a `ksand test` report.
        case notAReport
        /// A report of a kind the command cannot take; the kinds it takes.
        case unknownKind(String, known: [String])
        /// A report of another kind than the first file's.
        case mixedKinds(kind: String, other: String, otherKind: String)
        /// A report of a known kind whose contents do not decode; where and why.
        case malformed(kind: String, reason: String)
        /// A report of a whole run (no `shard`), where a shard's was expected.
        case notAShard
        /// A `shard` whose numbers make no shard.
        case invalidShard(ShardError)
        /// A shard of another plan than the first file's (another N or another number of tests).
        case otherPlan(shard: Shard, planned: Int, other: String, otherShard: Shard, otherPlanned: Int)
        /// The same shard in two files.
        case duplicateShard(Shard, other: String)
        /// A test with no `position` (a report from a ksand that did not record it).
        case noPosition(test: String)
        /// A test whose position is not one of its shard's.
        case notInShard(test: String, position: Int, shard: Shard, planned: Int)
        /// The same test twice (in one file, or in two).
        case duplicateTest(test: String, position: Int, other: String)
        /// A shard's report that lacks some of its tests (the run was interrupted or cut short).
        case incompleteShard(Shard, missing: [Int], of: Int)
        /// Shards of the plan that no file holds.
        case missingShards([Shard], tests: Int)
        /// A `ksand validate` report that is no shard of a validation: a whole one (no `shard`), or one of `--bisect`
        /// or `--one` (its mode).
        case notAValidationShard(mode: String)
        /// A shard of another validation than the first file's (another series, N or `--for`); what differs.
        case otherValidation(shard: Shard, other: String, otherShard: Shard, difference: String)
        /// A patch outside its shard's chunk of the series (nil: the chunk is empty).
        case patchNotInShard(patch: Int, shard: Shard, chunk: ClosedRange<Int>?, seriesLength: Int)
        /// The same patch twice (in one file, or in two).
        case duplicatePatch(patch: Int, other: String)
        /// A shard's validation report that lacks some of its chunk's patches.
        case incompleteValidationShard(Shard, missing: [Int])
        /// Shards of the validation that no file holds; how many patches they hold.
        case missingValidationShards([Shard], patches: Int)

        /// A decoding error as one line: where in the document (`tests[2].name`), and what.
        public static func reason(_ error: any Error) -> String {
            guard let error = error as? DecodingError else { return "\(error)" }
            let context: DecodingError.Context
            var detail: String
            switch error {
            case .keyNotFound(let key, let found):
                (context, detail) = (found, "no `\(key.stringValue)`")
            case .typeMismatch(_, let found), .valueNotFound(_, let found), .dataCorrupted(let found):
                (context, detail) = (found, found.debugDescription)
                if let underlying = found.underlyingError { detail += " \(underlying)" }
            @unknown default:
                return "\(error)"
            }
            let at = context.codingPath.enumerated().map { index, key in
                key.intValue.map { "[\($0)]" } ?? (index == 0 ? key.stringValue : "." + key.stringValue)
            }.joined()
            return at.isEmpty ? detail : "at \(at): \(detail)"
        }
    }

    public var file: String?
    public var problem: Problem

    public init(file: String?, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        let unchanged = "pass the file ksand wrote, unchanged"
        let orAllow = "or --allow-missing to merge what there is"
        let message: String = switch problem {
        case .unreadable(let reason): "cannot be read (\(reason)): check the path"
        case .notJSON(let reason): "is not JSON (\(reason)): pass the report that ksand wrote with --json"
        case .notAReport:
            "is not a ksand report (it has no `kind`, nor the `tests`, `counts` and `passed` of a test report): "
                + "pass the report that ksand wrote with --json"
        case .unknownKind(let kind, let known):
            "is a `\(kind)` report, which cannot be merged (only \(known.map { "`\($0)`" }.joined(separator: ", ")) reports can)"
        case .mixedKinds(let kind, let other, let otherKind):
            "is a `\(kind)` report but \(other) is a `\(otherKind)` report: merge reports of one kind"
        case .malformed(let kind, let reason): "is not a readable `\(kind)` report (\(reason)): \(unchanged)"
        case .notAShard: "is the report of a whole run (it has no `shard`): merge the reports of `ksand test --shard K/N --json`"
        case .invalidShard(let error): "has a `shard` that is no shard (\(error.input): \(error.reason)): \(unchanged)"
        case .otherPlan(let shard, let planned, let other, let otherShard, let otherPlanned):
            "is shard \(shard) of a plan of \(planned) test\(planned == 1 ? "" : "s"), but \(other) is shard \(otherShard) of "
                + "\(otherPlanned): merge the shards of one run (the same suites, --filter and N)"
        case .duplicateShard(_, let other) where other == file: "is given twice: pass each shard's report once"
        case .duplicateShard(let shard, let other): "is shard \(shard), as \(other) is: pass each shard's report once"
        case .noPosition(let test):
            "does not say where test \(test) stands in the plan (no `position`): rerun that shard with this ksand"
        case .notInShard(let test, let position, let shard, let planned):
            "holds test \(test) at position \(position), which is not one of shard \(shard)'s in a plan of \(planned): \(unchanged)"
        case .duplicateTest(let test, let position, let other) where other == file:
            "holds test \(test) (position \(position)) twice: \(unchanged)"
        case .duplicateTest(let test, let position, let other):
            "holds test \(test) (position \(position)), as \(other) does: pass each shard's report once"
        case .incompleteShard(let shard, let missing, let total):
            "lacks \(missing.count) of the \(total) tests of shard \(shard) (position\(missing.count == 1 ? "" : "s") "
                + "\(Self.list(missing))): the run was interrupted or cut short; rerun that shard, \(orAllow)"
        case .missingShards(let shards, let tests):
            "shard\(shards.count == 1 ? "" : "s") \(Self.list(shards)) \(shards.count == 1 ? "is" : "are") missing "
                + "(\(tests) test\(tests == 1 ? "" : "s") of the plan): pass every shard's report, \(orAllow)"
        case .notAValidationShard(let mode) where mode == "series":
            "is the report of a whole validation (it has no `shard`): merge the reports of `ksand validate --shard K/N --json`"
        case .notAValidationShard(let mode):
            "is the report of `ksand validate --\(mode)`, not of a shard: merge the reports of `ksand validate --shard K/N --json`"
        case .otherValidation(let shard, let other, let otherShard, let difference):
            "is shard \(shard) of another validation than \(other) (shard \(otherShard)): \(difference); merge the shards of one "
                + "validation (the same series, N and --for)"
        case .patchNotInShard(let patch, let shard, let chunk, let length):
            "holds patch \(patch), which is not in shard \(shard)'s part of the series ("
                + (chunk.map { "patches \($0.lowerBound)...\($0.upperBound) of \(length)" } ?? "none of its \(length) patches") + "): \(unchanged)"
        case .duplicatePatch(let patch, let other) where other == file: "holds patch \(patch) twice: \(unchanged)"
        case .duplicatePatch(let patch, let other): "holds patch \(patch), as \(other) does: pass each shard's report once"
        case .incompleteValidationShard(let shard, let missing):
            "lacks patch\(missing.count == 1 ? "" : "es") \(Self.list(missing)) of shard \(shard): the validation was interrupted or cut "
                + "short; rerun that shard, \(orAllow)"
        case .missingValidationShards(let shards, let patches):
            "shard\(shards.count == 1 ? "" : "s") \(Self.list(shards)) \(shards.count == 1 ? "is" : "are") missing "
                + "(\(patches) patch\(patches == 1 ? "" : "es") of the series): pass every shard's report, \(orAllow)"
        }
        return file.map { "\($0) \(message)" } ?? message
    }

    /// `1, 2 and 3`; the first ten only, then how many more.
    private static func list(_ items: [some CustomStringConvertible]) -> String {
        let shown = items.prefix(10).map(\.description)
        if items.count > 10 { return shown.joined(separator: ", ") + " and \(items.count - 10) more" }
        guard shown.count > 1 else { return shown.first ?? "" }
        return shown.dropLast().joined(separator: ", ") + " and " + shown[shown.count - 1]
    }
}
