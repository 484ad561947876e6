import Foundation
import KsandFoundation
import Sandbox
import Testing
@testable import Validate

/// `ksand validate --json`: the document other tools read (`ksand report merge`, CI jobs). A renamed or retyped key
/// fails here, as does a report written before the optional fields were added that no longer reads.
@Suite struct ValidationReportDocumentTests {
    static let golden = SampleReports.root.appendingPathComponent("Tests/ValidateTests/Fixtures/validation-report.json")

    @Test func theDocumentIsPinned() throws {
        let written = String(decoding: try JSONDocument.prettyPrinted(SampleReports.small()), as: UTF8.self)
        let pinned = try String(contentsOf: Self.golden, encoding: .utf8)
        if written != pinned { try? written.write(toFile: NSTemporaryDirectory() + "/validation-report.json", atomically: true, encoding: .utf8) }
        #expect(written == pinned, "the document changed; if on purpose, copy \(NSTemporaryDirectory())/validation-report.json to \(Self.golden.path)")
    }

    @Test func thePinnedDocumentReadsBackAsTheSameReport() throws {
        let read = try #require(JSONDocument.decode(ValidationReport.self, from: try Data(contentsOf: Self.golden)))
        #expect(read == SampleReports.small())
        #expect(read.exitStatus == 1)
    }

    @Test func aReportWithoutTheLaterFieldsStillReads() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.golden)) as? [String: Any])
        for key in ["started", "shard", "patchset", "git", "config"] { object.removeValue(forKey: key) }
        let read = try #require(JSONDocument.decode(ValidationReport.self, from: try JSONSerialization.data(withJSONObject: object)))
        #expect(read.patches.count == 3)
        #expect(read.firstBad == 1)
    }

    @Test func aDocumentOfAnotherKindOrOutOfShapeIsNotAReport() {
        for text in ["{}", "[]", "{\"kind\": \"ksand-validate\"}", "{\"kind\": \"ksand-validate\", \"mode\": \"sideways\"}", "null", "\u{0}"] {
            #expect(JSONDocument.decode(ValidationReport.self, from: Data(text.utf8)) == nil, "\(text)")
        }
    }
}
