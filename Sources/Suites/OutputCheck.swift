import Foundation
import ProjectFile

/// Compares what a test's command did with what the test expects. Pure: each mismatch is one sentence.
public enum OutputCheck {
    public static func mismatches(_ expect: SuiteTest.Expectation, status: Int32, stdout: String, stderr: String) -> [String] {
        var problems: [String] = []
        if status != expect.status {
            problems.append("exit status \(status), expected \(expect.status)" + (stderr.isEmpty ? "" : "; stderr: \(excerpt(stderr))"))
        }
        problems += compare("stdout", stdout, exact: expect.stdout, pattern: expect.stdoutMatches)
        problems += compare("stderr", stderr, exact: expect.stderr, pattern: expect.stderrMatches)
        return problems
    }

    static func compare(_ stream: String, _ text: String, exact: String?, pattern: String?) -> [String] {
        var problems: [String] = []
        if let exact, text != exact {
            problems.append("\(stream) was \(excerpt(text, quoted: true)), expected \(excerpt(exact, quoted: true))")
        }
        if let pattern {
            let matches = (try? Regex(pattern)).map { text.contains($0) } ?? false
            if !matches { problems.append("\(stream) does not match /\(pattern)/: \(excerpt(text, quoted: true))") }
        }
        return problems
    }

    /// At most 200 characters of `text`, with newlines shown as \n.
    static func excerpt(_ text: String, quoted: Bool = false) -> String {
        var shown = text.count > 200 ? String(text.prefix(200)) + "…" : text
        shown = shown.replacingOccurrences(of: "\n", with: "\\n")
        return quoted ? "\"\(shown)\"" : shown
    }
}
