import Foundation
import KsandFoundation
import Sandbox

/// The kind of a JSON report ksand wrote, told before the whole document is read, so that a command taking reports
/// (`ksand report merge`) can hand each to the reader of its kind and refuse the others by name.
///
/// A report says its kind in a top-level `kind` string: `ksand-test` for `ksand test --json`,
/// `ksand-validate` for `ksand validate --json`. A `ksand test` report
/// written before `kind` existed is told by its keys: `tests` (an array), `counts` (an object) and `passed`.
public enum ReportKind {
    /// `ksand test --json`.
    public static let test = "ksand-test"
    /// `ksand validate --json`.
    public static let validate = "ksand-validate"

    /// The kind of the report in `data`; throws when it is not JSON, or a JSON value that is no ksand report.
    public static func of(_ data: Data) throws(ReportError.Problem) -> String {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .notJSON(ReportError.Problem.reason(error))
        }
        guard case .object(let object) = value else { throw .notAReport }
        switch object["kind"] {
        case .string(let kind)?: return kind
        case nil:
            if case .array? = object["tests"], case .object? = object["counts"], case .bool? = object["passed"] { return test }
            throw .notAReport
        default: throw .notAReport
        }
    }

    /// The one kind of every report in `reports` (file, contents), or the first file whose kind differs from the
    /// first's, or that is no report.
    public static func common(_ reports: [(file: String, data: Data)]) throws(ReportError) -> String? {
        var first: (file: String, kind: String)?
        for (file, data) in reports {
            let kind: String
            do { kind = try of(data) } catch { throw ReportError(file: file, problem: error) }
            if let first, first.kind != kind {
                throw ReportError(file: file, problem: .mixedKinds(kind: kind, other: first.file, otherKind: first.kind))
            }
            first = first ?? (file, kind)
        }
        return first?.kind
    }
}
