import ContentHash
import KernelSource

extension SeriesValidator {
    /// A patch as the validator needs it: its place, its names, its identity, and the files it touches.
    public struct PatchInfo: Sendable, Equatable {
        public var index: Int
        public var subject: String
        public var author: String?
        public var commit: String?
        public var touchedFiles: [String]
        /// SHA-256 of the patch as `git apply` reads it (its whole mail or diff), for reports; nil when not known.
        public var sha256: String?
        /// The file it was read from, when it is one file of its own.
        public var file: String?

        public init(index: Int, subject: String, author: String? = nil, commit: String? = nil, touchedFiles: [String], sha256: String? = nil,
                    file: String? = nil) {
            self.index = index
            self.subject = subject
            self.author = author
            self.commit = commit
            self.touchedFiles = touchedFiles
            self.sha256 = sha256
            self.file = file
        }

        /// A patch of a ``PatchSet``, its SHA-256 taken over its message.
        public init(_ patch: PatchSet.Patch) {
            var hasher = ContentHasher()
            hasher.update(patch.message)
            self.init(index: patch.index, subject: patch.subject, author: patch.author, commit: patch.commit, touchedFiles: patch.touchedFiles,
                      sha256: hasher.finalize(), file: patch.file)
        }

        /// As the report lists the series.
        var seriesPatch: ValidationReport.SeriesPatch {
            ValidationReport.SeriesPatch(index: index, subject: subject, sha256: sha256, file: file, commit: commit)
        }
    }
}
