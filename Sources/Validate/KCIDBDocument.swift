import ContentHash
import Foundation
import KsandFoundation
import Sandbox

/// A KCIDB document (schema v5.3, the newest kcidb-io 141 knows), as `ksand validate --kcidb FILE` writes it for
/// KernelCI's database: checkouts (the source with a patch set), the builds of each, and the tests run on each build.
///
/// Only the fields ksand fills are modelled, named as the schema names them (`checkout_id`, `patchset_hash`, …);
/// nil fields are left out. `ci/kcidb-validate.py` checks a document against kcidb-io's schema.
public struct KCIDBDocument: Codable, Equatable, Sendable {
    public struct Version: Codable, Equatable, Sendable {
        public var major = 5
        public var minor = 3
    }

    /// A file: a name (no `/`) and where it is.
    public struct Resource: Codable, Equatable, Sendable {
        public var name: String
        public var url: String
    }

    /// The outcome of a build or test, in the schema's words.
    public enum Status: String, Codable, Equatable, Sendable {
        case fail = "FAIL", error = "ERROR", miss = "MISS", pass = "PASS", done = "DONE", skip = "SKIP"
    }

    /// The source that was built: a base (a git commit, when known) with a patch set applied on it.
    public struct Checkout: Codable, Equatable, Sendable {
        public var id: String
        public var origin: String
        public var treeName: String?
        public var gitCommitHash: String?
        public var gitCommitName: String?
        public var patchsetFiles: [Resource]?
        /// SHA-256 over the patches' SHA-256s in order, each as hex followed by a newline; empty for no patches.
        public var patchsetHash: String?
        public var comment: String?
        public var startTime: String?
        public var logExcerpt: String?
        /// False when the patch set did not apply.
        public var valid: Bool?
        public var misc: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case id, origin, comment, valid, misc
            case treeName = "tree_name", gitCommitHash = "git_commit_hash", gitCommitName = "git_commit_name", patchsetFiles = "patchset_files"
            case patchsetHash = "patchset_hash", startTime = "start_time", logExcerpt = "log_excerpt"
        }
    }

    public struct Build: Codable, Equatable, Sendable {
        public var id: String
        public var checkoutID: String
        public var origin: String
        public var comment: String?
        public var startTime: String?
        /// Seconds.
        public var duration: Double?
        public var architecture: String?
        public var compiler: String?
        public var configName: String?
        public var logURL: String?
        public var logExcerpt: String?
        public var status: Status?
        public var misc: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case id, origin, comment, duration, architecture, compiler, status, misc
            case checkoutID = "checkout_id", startTime = "start_time", configName = "config_name", logURL = "log_url", logExcerpt = "log_excerpt"
        }
    }

    /// A measured value, with its unit.
    public struct Number: Codable, Equatable, Sendable {
        public var value: Double
        public var unit: String?
    }

    public struct Test: Codable, Equatable, Sendable {
        public var id: String
        public var buildID: String
        public var origin: String
        /// Dot-separated: `ksand.boot`, `ksand.tests.smoke.root-is-read-only`, `ksand.boot_time`.
        public var path: String?
        public var comment: String?
        public var logExcerpt: String?
        public var status: Status?
        public var number: Number?
        public var startTime: String?
        public var misc: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case id, origin, path, comment, status, number, misc
            case buildID = "build_id", logExcerpt = "log_excerpt", startTime = "start_time"
        }
    }

    public var version = Version()
    public var checkouts: [Checkout] = []
    public var builds: [Build] = []
    public var tests: [Test] = []

    public init() {}

    /// The document as ksand writes it: pretty printed, keys sorted.
    public func json() throws -> Data { try JSONDocument.prettyPrinted(self) }

    // MARK: Values the schema constrains

    /// Throws unless `origin` is a KCIDB origin: lowercase letters, digits and `_` (the schema's `^[a-z0-9_]+$`).
    public static func check(origin: String) throws(KCIDBOriginError) {
        let allowed = !origin.isEmpty && origin.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        if !allowed { throw KCIDBOriginError(origin: origin) }
    }

    /// `ORIGIN:HASH`: an ID that the same `parts` always give, and other parts (in all likelihood) never.
    static func id(origin: String, _ parts: [String]) -> String {
        origin + ":" + ContentHasher.hex(of: parts.joined(separator: "\n")).prefix(32)
    }

    /// KCIDB's patch set hash: SHA-256 over each patch's SHA-256 as hex with a newline, in order (`sha256sum *.patch |
    /// cut -c-64 | sha256sum`); empty for no patches.
    public static func patchsetHash(_ patchHashes: [String]) -> String {
        patchHashes.isEmpty ? "" : ContentHasher.hex(of: patchHashes.map { $0 + "\n" }.joined())
    }

    /// A path component: letters, digits, `_` and `-`, anything else as `_`.
    static func pathComponent(_ text: String) -> String {
        let kept = String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-") ? scalar : "_"
        }))
        return kept.isEmpty ? "_" : kept
    }

    /// Text the schema takes (`^[^\0]*$`): NUL characters dropped.
    static func text(_ text: String) -> String {
        text.contains("\0") ? text.replacingOccurrences(of: "\0", with: "") : text
    }

    /// The schema's `log_excerpt`: at most 16,384 characters; a longer one keeps its start and says it was cut.
    static func excerpt(_ lines: [String]) -> String? {
        guard !lines.isEmpty else { return nil }
        let whole = text(lines.joined(separator: "\n"))
        let limit = 16_384, note = "\n… (cut at 16384 characters)"
        guard whole.unicodeScalars.count > limit else { return whole }
        return String(String.UnicodeScalarView(whole.unicodeScalars.prefix(limit - note.unicodeScalars.count))) + note
    }

    /// A `file:` URL of `path`, percent-encoded.
    static func fileURL(_ path: String, fragment: String? = nil) -> String {
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ";?#"))) ?? path
        return (path.hasPrefix("/") ? "file://" : "file:") + encoded + (fragment.map { "#" + $0 } ?? "")
    }
}

/// A `--kcidb-origin` that KCIDB would refuse.
public struct KCIDBOriginError: Error, Equatable, Sendable, CustomStringConvertible {
    public var origin: String

    public var description: String {
        "--kcidb-origin \(origin): a KCIDB origin is lowercase letters, digits and _ (^[a-z0-9_]+$), such as ksand or my_lab"
    }
}
