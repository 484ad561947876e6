import KernelBuild
import Testing

@Suite struct BuildDiagnosticTests {
    /// gcc 12's own output for a file with an unused variable and an undeclared name, compiled by absolute path as
    /// the kernel's out-of-tree build does, with make's and kconfig's lines around it.
    static let log = """
        .config:1309:warning: override: UNWINDER_GUESS changes choice state
          CC      drivers/md/md.o
        /cache/build/abc/tree/drivers/md/md.c: In function ‘f’:
        /cache/build/abc/tree/drivers/md/md.c:3:13: warning: unused variable ‘unused’ [-Wunused-variable]
            3 |         int unused;
              |             ^~~~~~
        /cache/build/abc/tree/drivers/md/md.c: In function ‘g’:
        /cache/build/abc/tree/drivers/md/md.c:6:28: error: ‘undeclared_x’ undeclared (first use in this function)
            6 | int g(void) { return f() + undeclared_x; }
              |                            ^~~~~~~~~~~~
        /cache/build/abc/tree/drivers/md/md.c:6:28: note: each undeclared identifier is reported only once for each function it appears in
        /cache/build/abc/tree/drivers/md/md.c:6:42: warning: control reaches end of non-void function [-Wreturn-type]
        ./include/linux/kernel.h:20: warning: a warning without a column
        make[4]: *** [/cache/build/abc/tree/scripts/Makefile.build:250: drivers/md/md.o] Error 1
        """

    @Test func readsTheCompilersWarningsAndErrorsRelativeToTheTree() {
        let diagnostics = BuildDiagnostic.parse(log: Self.log, tree: "/cache/build/abc/tree")
        #expect(diagnostics.map(\.text) == [
            "drivers/md/md.c:3:13: warning: unused variable ‘unused’ [-Wunused-variable]",
            "drivers/md/md.c:6:28: error: ‘undeclared_x’ undeclared (first use in this function)",
            "drivers/md/md.c:6:42: warning: control reaches end of non-void function [-Wreturn-type]",
            "include/linux/kernel.h:20: warning: a warning without a column",
        ])
        #expect(diagnostics[0].option == "-Wunused-variable")
        #expect(diagnostics[0].message == "unused variable ‘unused’")
        #expect(diagnostics[1].severity == .error)
    }

    /// Found by fuzzing: a path with `./` twice read back as another diagnostic once printed.
    @Test func aPathIsReadTheSameWayOnceItIsPrinted() {
        let once = BuildDiagnostic.parse(log: "/t/././include/linux/kernel.h:07: warning: w", tree: "/t")
        #expect(once.map(\.file) == ["include/linux/kernel.h"])
        #expect(BuildDiagnostic.parse(log: once[0].text, tree: "/t") == once)
        #expect(BuildDiagnostic.parse(log: "./:1:2: warning: no file left", tree: "/t").isEmpty)
        #expect(BuildDiagnostic.parse(log: ".//t/./a.c:1: warning: w", tree: "/t").map(\.file) == ["a.c"])
    }

    @Test func aWarningThatOnlyMovedIsNotNew() {
        let parent = [BuildDiagnostic(file: "a.c", line: 10, severity: .warning, message: "unused variable ‘x’", option: "-Wunused-variable")]
        var moved = parent
        moved[0].line = 14
        #expect(BuildDiagnostic.new(in: moved, comparedWith: parent, files: ["a.c"]).isEmpty)
        let twice = moved + moved
        #expect(BuildDiagnostic.new(in: twice, comparedWith: parent, files: ["a.c"]).count == 1)
        #expect(BuildDiagnostic.new(in: twice, comparedWith: [], files: ["b.c"]).isEmpty)
    }

    @Test func linesThatOnlyLookLikeDiagnosticsAreNot() {
        for line in ["warning: no file", "a b.c:1:2: warning: space in path", "x.c:one:2: warning: not a line", "x.c:1:2:3: warning: too many",
                     ":1:2: warning: no path", "x.c:1:: warning: empty column", String(repeating: "x", count: 9000) + ".c:1:1: warning: long"] {
            #expect(BuildDiagnostic.parse(log: line, tree: "/t").isEmpty, "\(line.prefix(60))")
        }
    }

    @Test func aRecordCoversTheFilesItRecompiled() {
        let record = BuildDiagnosticsRecord(recompiled: ["a.c", "b.h"], diagnostics: [])
        #expect(record.covers(["a.c"]))
        #expect(record.covers([]))
        #expect(!record.covers(["a.c", "c.c"]))
    }
}
