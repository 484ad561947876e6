import Testing
@testable import SandboxProtocol

@Suite struct FrameTests {
    @Test func framesSurviveArbitrarySplits() throws {
        let frames = [
            Frame(.hello, Hello(listensToPowerButton: true).encoded()),
            Frame(.stdout, Array("out\n".utf8)),
            Frame(.stderr, [0, 255, 10, 13]),
            Frame(.stdin, []),
            Frame(.exit, CommandExit.signaled(9).encoded()),
        ]
        let wire = frames.flatMap { $0.encoded() }
        for chunkSize in [1, 2, 3, 7, 64, wire.count] {
            var decoder = FrameDecoder()
            var decoded: [Frame] = []
            var offset = 0
            while offset < wire.count {
                decoder.append(wire[offset..<min(offset + chunkSize, wire.count)])
                offset += chunkSize
                while let frame = try decoder.next() { decoded.append(frame) }
            }
            #expect(decoded == frames, "chunk size \(chunkSize)")
            #expect(decoder.pendingByteCount == 0)
        }
    }

    @Test func unknownKindIsAnError() {
        var decoder = FrameDecoder()
        decoder.append([0x7f, 0, 0, 0, 0])
        #expect(throws: FrameError.unknownKind(0x7f)) { try decoder.next() }
    }

    @Test func oversizedPayloadIsRejectedBeforeBuffering() {
        var decoder = FrameDecoder()
        decoder.append([Frame.Kind.stdout.rawValue, 0xff, 0xff, 0xff, 0x7f])
        #expect(throws: FrameError.payloadTooLarge(0x7fff_ffff)) { try decoder.next() }
    }

    @Test func exitStatusMapsSignalsLikeAShell() throws {
        #expect(CommandExit.exited(7).shellStatus == 7)
        #expect(CommandExit.signaled(9).shellStatus == 137)
        #expect(try CommandExit(decoding: CommandExit.exited(255).encoded()) == .exited(255))
        #expect(throws: FrameError.self) { try CommandExit(decoding: CommandExit.exited(-1).encoded()) }
        #expect(throws: FrameError.self) { try CommandExit(decoding: [0, 1]) }
    }

    @Test func specRoundTrips() throws {
        let spec = RunSpec(
            argv: ["sh", "-c", "echo 'a b'"], environment: ["PATH=/usr/bin:/bin", "HOME=/root", "EMPTY="],
            workingDirectory: "/home/u", uid: 1000, gid: 100, supplementaryGroups: [27, 100],
            overlays: ["/tmp"], tmpfs: ["/var/tmp"],
            shares: [.init(tag: "ksand-rw0", path: "/srv/out", writable: true), .init(tag: "x", path: "/y", writable: false)],
            msize: 1 << 20, forwardsStdin: false, terminateGraceMilliseconds: 500, hostname: "box")
        #expect(try RunSpec(decoding: spec.encoded()) == spec)
    }

    @Test func specWithoutCommandOrTruncatedIsRejected() {
        #expect(throws: FrameError.self) { try RunSpec(decoding: []) }
        let bytes = RunSpec(argv: ["true"], environment: [], workingDirectory: "/", uid: 0, gid: 0).encoded()
        #expect(throws: FrameError.self) { try RunSpec(decoding: Array(bytes.dropLast())) }
    }

    @Test func unknownSpecFieldsAreSkipped() throws {
        var bytes: [UInt8] = [200, 3, 0, 0, 0, 1, 2, 3]
        bytes += RunSpec(argv: ["true"], environment: [], workingDirectory: "/", uid: 0, gid: 0).encoded()
        #expect(try RunSpec(decoding: bytes).argv == ["true"])
    }
}
