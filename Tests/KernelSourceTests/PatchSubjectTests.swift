import Testing
@testable import KernelSource

@Suite struct PatchSubjectTests {
    @Test(arguments: [
        ("[PATCH 3/5] md: fix the resync check", PatchSubject(title: "md: fix the resync check", number: 3, total: 5, tags: ["PATCH"])),
        ("[PATCH v2 3/7] x86/boot: drop a delay", PatchSubject(title: "x86/boot: drop a delay", number: 3, total: 7, version: 2, tags: ["PATCH"])),
        ("[RFC PATCH 02/10] mm: try this", PatchSubject(title: "mm: try this", number: 2, total: 10, tags: ["RFC", "PATCH"])),
        ("[RFC][PATCH v3 0/4] the cover", PatchSubject(title: "the cover", number: 0, total: 4, version: 3, tags: ["RFC", "PATCH"])),
        ("[PATCH net-next 1/3] net: a change", PatchSubject(title: "net: a change", number: 1, total: 3, tags: ["PATCH", "net-next"])),
        ("[PATCH] lone fix", PatchSubject(title: "lone fix", tags: ["PATCH"])),
        ("Re: [PATCH 2/5] md: fix", PatchSubject(title: "md: fix", number: 2, total: 5, tags: ["PATCH"], isReply: true)),
        ("no prefix at all", PatchSubject(title: "no prefix at all")),
        ("[PATCH 6/5] past the end", PatchSubject(title: "past the end", number: 6, total: 5, tags: ["PATCH"])),
        ("  [PATCH 1/2]   spaced out  ", PatchSubject(title: "spaced out", number: 1, total: 2, tags: ["PATCH"])),
        ("[PATCH 1/0] zero total", PatchSubject(title: "zero total", tags: ["PATCH", "1/0"])),
        ("[unclosed bracket", PatchSubject(title: "[unclosed bracket")),
    ])
    func splitsPrefixAndTitle(subject: String, expected: PatchSubject) {
        #expect(PatchSubject(parsing: subject) == expected)
    }
}

@Suite struct MailHeadersTests {
    @Test func unfoldsAndDecodesEncodedWords() {
        let message = Array("""
            From 0123456789012345678901234567890123456789 Mon Sep 17 00:00:00 2001
            From: =?UTF-8?q?Ren=C3=A9=20M=C3=BCller?= <rene@example.org>
            Subject: [PATCH 2/3] a subject long enough that git folds it onto a second
             line of the header
            X-Base64: =?utf-8?B?Y2Fmw6k=?= =?utf-8?b?IGNyw6htZQ==?= and plain
            X-Latin1: =?ISO-8859-1?Q?caf=E9?=
            X-Unknown: =?koi8-r?q?=E1?= =?utf-8?x?abc?=

            body: not: a header

            """.utf8)
        let (headers, bodyStart) = MailHeaders.parse(message)
        #expect(headers["from"] == "René Müller <rene@example.org>")
        #expect(headers["Subject"] == "[PATCH 2/3] a subject long enough that git folds it onto a second line of the header")
        #expect(headers["X-Base64"] == "café crème and plain")
        #expect(headers["X-Latin1"] == "café")
        #expect(headers["X-Unknown"] == "=?koi8-r?q?=E1?= =?utf-8?x?abc?=")
        #expect(String(decoding: message[bodyStart...], as: UTF8.self) == "body: not: a header\n")
    }

    @Test func crlfLineEndsAndAMissingBlankLine() {
        let (headers, bodyStart) = MailHeaders.parse(Array("Subject: a\r\n b\r\nFrom: x\r\nnot a header line\n".utf8))
        #expect(headers.fields == [.init(name: "Subject", value: "a b"), .init(name: "From", value: "x")])
        #expect(bodyStart == 25)
    }
}

@Suite struct MailboxTests {
    @Test func splitsOnSeparatorsAndUndoesMboxrdQuoting() {
        let mbox = """
            From alice@example.org Thu Jan  1 00:00:00 1998
            Subject: one

            >From the start, quoted once
            >>From quoted twice
            From here on a plain line that is no separator
            > From is not quoted

            From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001
            Subject: two

            """
        let messages = Mailbox.messages(in: Array(mbox.utf8))
        #expect(messages.count == 2)
        #expect(String(decoding: messages[0].bytes, as: UTF8.self) == """
            From alice@example.org Thu Jan  1 00:00:00 1998
            Subject: one

            From the start, quoted once
            >From quoted twice
            From here on a plain line that is no separator
            > From is not quoted


            """)
        #expect(messages[0].commit == nil)
        #expect(messages[1].commit == "0123456789abcdef0123456789abcdef01234567")
    }

    @Test func textBeforeTheFirstSeparatorIsAMessage() {
        let messages = Mailbox.messages(in: Array("Subject: saved alone\n\nbody\n".utf8))
        #expect(messages.map(\.separator) == [nil])
        #expect(Mailbox.messages(in: Array(" \n\n".utf8)).isEmpty)
    }
}
