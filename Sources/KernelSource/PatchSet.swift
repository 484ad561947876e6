/// A patch series in the order it applies, whatever form it came in: an mbox (`b4 am`, `git format-patch
/// --stdout`), a directory of `git format-patch` files, a range of commits in a git tree, or a quilt `series`.
///
/// Each patch keeps its message as bytes, so a prefix of the series (patches 1...k, on the same base) can be handed
/// to ``PatchApplier`` whatever the form (see ``applierPatches(_:writingTo:)``).
public struct PatchSet: Equatable, Sendable {
    public struct Patch: Equatable, Sendable {
        /// Its place in the series, from 1.
        public var index: Int
        /// The subject without its `[PATCH n/m]` prefix; for a plain diff, its file name.
        public var subject: String
        /// The mail's `From` header (`Name <address>`), decoded; nil for a plain diff.
        public var author: String?
        /// The commit it was made from, when its separator line names one (`git format-patch` writes it).
        public var commit: String?
        /// The mail or diff, as `git apply` reads it.
        public var message: [UInt8]
        /// The file it was read from, when it is one file on its own (a directory's or a quilt series' patch).
        public var file: String?
        /// How many leading path components `git apply` strips (quilt's `-pN`; 1 for mails).
        public var strip: Int

        public init(index: Int, subject: String, author: String? = nil, commit: String? = nil, message: [UInt8], file: String? = nil, strip: Int = 1) {
            self.index = index
            self.subject = subject
            self.author = author
            self.commit = commit
            self.message = message
            self.file = file
            self.strip = strip
        }

        /// `3/7 "md: fix the resync check"`, for messages.
        public func label(of total: Int) -> String { "\(index)/\(total) \"\(subject)\"" }
    }

    /// Where the series came from, for messages.
    public var source: String
    public var patches: [Patch]
    /// The cover letter's subject (patch 0/m), without its prefix, when there was one.
    public var coverLetter: String?
    /// `N` of the series' `[PATCH vN ...]`, when given.
    public var version: Int?
    /// The commit the series applies on, when known: a git range's BASE, as its first commit's parent.
    public var baseCommit: String?

    public init(source: String, patches: [Patch], coverLetter: String? = nil, version: Int? = nil) {
        self.source = source
        self.patches = patches
        self.coverLetter = coverLetter
        self.version = version
    }

    /// Reads an mbox holding one series. `source` names it in errors.
    ///
    /// Patches are ordered by their `[PATCH n/m]` numbers; the cover letter (0/m), replies (`Re:`) and messages with
    /// no diff are left out. A series whose patches have no numbers keeps the mbox's order (one unnumbered patch
    /// is a series of one). Throws when the numbered patches are not exactly 1...m of one series of one version.
    public init(mbox: some Collection<UInt8>, source: String) throws(PatchSetError) {
        let messages = Mailbox.messages(in: mbox).map { MailPatch(message: $0.bytes, commit: $0.commit, file: nil) }
        try self.init(mails: messages, source: source)
    }

    /// One mail (or a plain diff) read from a file or an mbox.
    struct MailPatch {
        var message: [UInt8]
        var commit: String?
        var file: String?
    }

    /// Orders and checks the series' mails (see ``init(mbox:source:)``).
    init(mails: [MailPatch], source: String) throws(PatchSetError) {
        var numbered: [(number: Int, subject: PatchSubject, mail: MailPatch, author: String?)] = []
        var unnumbered: [(subject: PatchSubject, mail: MailPatch, author: String?)] = []
        var cover: PatchSubject?
        for mail in mails {
            let (headers, bodyStart) = MailHeaders.parse(mail.message)
            let subject = PatchSubject(parsing: headers["Subject"] ?? "")
            guard !subject.isReply else { continue }
            if subject.number == 0 {
                cover = cover ?? subject
                continue
            }
            guard Self.hasDiff(mail.message[bodyStart...]) else { continue }
            if let number = subject.number {
                numbered.append((number, subject, mail, headers["From"]))
            } else {
                unnumbered.append((subject, mail, headers["From"]))
            }
        }
        if numbered.isEmpty && unnumbered.isEmpty { throw .noPatches(source: source, messages: mails.count) }
        if let stray = unnumbered.first, !numbered.isEmpty {
            throw .unnumberedPatch(source: source, subject: stray.subject.title)
        }
        let versions = Set(numbered.map { $0.subject.version ?? 1 } + (cover.map { [$0.version ?? 1] } ?? []))
        if versions.count > 1 { throw .mixedVersions(source: source, versions: versions.sorted()) }
        let totals = Set(numbered.compactMap(\.subject.total) + (cover?.total.map { [$0] } ?? []))
        if totals.count > 1 { throw .mixedTotals(source: source, totals: totals.sorted()) }
        var patches: [Patch] = []
        if let total = totals.first {
            if let beyond = numbered.first(where: { $0.number > total }) {
                throw .numberBeyondTotal(source: source, number: beyond.number, total: total, subject: beyond.subject.title)
            }
            let byNumber = Dictionary(grouping: numbered, by: \.number)
            if let (number, twice) = byNumber.filter({ $0.value.count > 1 }).min(by: { $0.key < $1.key }) {
                throw .duplicatePatch(source: source, number: number, total: total, subjects: twice.map(\.subject.title))
            }
            let missing = (1...total).filter { byNumber[$0] == nil }
            if !missing.isEmpty { throw .missingPatches(source: source, numbers: missing, total: total) }
            patches = numbered.sorted { $0.number < $1.number }.map {
                Patch(index: $0.number, subject: $0.subject.title, author: $0.author, commit: $0.mail.commit, message: $0.mail.message, file: $0.mail.file)
            }
        } else {
            patches = unnumbered.enumerated().map { offset, entry in
                Patch(index: offset + 1, subject: entry.subject.title, author: entry.author, commit: entry.mail.commit,
                      message: entry.mail.message, file: entry.mail.file)
            }
        }
        self.init(source: source, patches: patches, coverLetter: cover?.title, version: numbered.first?.subject.version ?? cover?.version)
    }

    /// Whether a mail body holds a diff `git apply` would act on: a `diff --git` header (which also covers
    /// renames, mode changes and binary patches, which have no hunks), or a unified diff's `---`, `+++` and `@@`.
    static func hasDiff(_ body: ArraySlice<UInt8>) -> Bool {
        var minus = false, plus = false, hunk = false
        for line in body.split(separator: 0x0a) {
            if line.starts(with: "diff --git ".utf8) { return true }
            if line.starts(with: "--- ".utf8) { minus = true }
            if line.starts(with: "+++ ".utf8) { plus = true }
            if line.starts(with: "@@ ".utf8) { hunk = true }
            if minus && plus && hunk { return true }
        }
        return false
    }

    /// The first `count` patches (all of them when nil) as ``PatchApplier`` takes them. A patch read from a file of
    /// its own is given as that file; the others are written to `directory` first, as `NNNN.patch`.
    public func applierPatches(_ count: Int? = nil, writingTo directory: String) throws(PatchSetError) -> [PatchApplier.Patch] {
        try patches.prefix(count ?? patches.count).map { (patch) throws(PatchSetError) -> PatchApplier.Patch in
            let label = "\(patch.label(of: patches.count)) of \(source)"
            if let file = patch.file { return PatchApplier.Patch(path: file, strip: patch.strip, label: label) }
            let path = directory + "/" + String("000\(patch.index)".suffix(max(4, String(patch.index).count))) + ".patch"
            try PatchFiles.write(patch.message, to: path)
            return PatchApplier.Patch(path: path, strip: patch.strip, label: label)
        }
    }
}
