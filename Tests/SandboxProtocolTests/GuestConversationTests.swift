import Testing
@testable import SandboxProtocol

@Suite struct GuestConversationTests {
    private func wire(_ frames: Frame...) -> [UInt8] { frames.flatMap { $0.encoded() } }
    private let hello = Frame(.hello, Hello(listensToPowerButton: false).encoded())

    @Test func aWholeRunIsHelloOutputAndOneEnd() throws {
        var conversation = GuestConversation()
        let events = try conversation.receive(wire(
            hello, Frame(.stdout, Array("out".utf8)), Frame(.stderr, Array("err".utf8)), Frame(.exit, CommandExit.exited(7).encoded())))
        #expect(events == [
            .hello(Hello(listensToPowerButton: false)), .stdout(Array("out".utf8)), .stderr(Array("err".utf8)), .exit(.exited(7)),
        ])
        #expect(conversation.stage == .ended)
        try conversation.closed()
    }

    @Test func emptyStdoutFramesAreFillerEvenAfterTheEnd() throws {
        var conversation = GuestConversation()
        let filler = Frame(.stdout, [])
        let events = try conversation.receive(wire(hello, filler, Frame(.exit, CommandExit.exited(0).encoded()), filler, filler))
        #expect(events == [.hello(Hello(listensToPowerButton: false)), .exit(.exited(0))])
        #expect(throws: FrameError.self) { try conversation.receive(Frame(.stdout, [1]).encoded()) }
    }

    @Test func aFailureMayComeBeforeTheHello() throws {
        var conversation = GuestConversation()
        #expect(try conversation.receive(wire(Frame(.failure, Array("no port".utf8)))) == [.failure(Array("no port".utf8))])
        #expect(conversation.stage == .ended)
    }

    @Test(arguments: [
        (Frame(.stdout, [1]), "stdout frame before the hello"),
        (Frame(.exit, CommandExit.exited(0).encoded()), "exit frame before the hello"),
        (Frame(.spec, []), "spec frame from the guest"),
    ])
    func outOfOrderFramesBreakTheConversation(frame: Frame, message: String) {
        var conversation = GuestConversation()
        #expect {
            _ = try conversation.receive(frame.encoded())
        } throws: { error in
            "\(error)".contains(message)
        }
        #expect(conversation.stage == .broken)
    }

    @Test func aSecondHelloAndFramesAfterTheEndAreErrors() throws {
        var conversation = GuestConversation()
        #expect(throws: FrameError.unexpected("second hello")) { try conversation.receive(self.wire(self.hello, self.hello)) }
        var ended = GuestConversation()
        _ = try ended.receive(wire(hello, Frame(.exit, CommandExit.exited(0).encoded())))
        #expect(throws: FrameError.self) { try ended.receive(Frame(.stdout, [0]).encoded()) }
        #expect(throws: FrameError.self) { try ended.receive([0]) }  // nothing is read after a protocol error
    }

    @Test func outOfRangeExitValuesAreErrorsNotTraps() {
        for payload: [UInt8] in [[1, 0xff, 0xff, 0xff, 0x7f], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [2, 0, 0, 0, 0]] {
            var conversation = GuestConversation()
            #expect(throws: FrameError.self) { try conversation.receive(self.wire(self.hello, Frame(.exit, payload))) }
        }
        #expect((try? CommandExit(decoding: [1, 64, 0, 0, 0])) == .signaled(64))
        #expect((try? CommandExit(decoding: [0, 255, 0, 0, 0])) == .exited(255))
    }

    @Test func aFrameCutOffByTheCloseIsAnError() throws {
        var conversation = GuestConversation()
        let bytes = wire(hello) + Array(Frame(.stdout, Array(repeating: 65, count: 100)).encoded().prefix(40))
        #expect(try conversation.receive(bytes) == [.hello(Hello(listensToPowerButton: false))])
        #expect { try conversation.closed() } throws: { "\($0)".contains("40 bytes of an unfinished frame") }
    }

    @Test func aHugeLengthIsRefusedBeforeItsPayloadArrives() throws {
        var conversation = GuestConversation()
        #expect(throws: FrameError.payloadTooLarge(0xffff_ffff)) {
            try conversation.receive(self.wire(self.hello) + [Frame.Kind.stdout.rawValue, 0xff, 0xff, 0xff, 0xff])
        }
    }
}

@Suite struct RestoredConversationTests {
    /// A guest restored from a snapshot said its hello in the boot the snapshot was made of: its output may come at
    /// once, and a hello now is a second one.
    @Test func aRestoredGuestsOutputComesWithoutAHello() throws {
        var conversation = GuestConversation(helloAlreadySaid: true)
        let events = try conversation.receive(Frame(.stdout, Array("x".utf8)).encoded() + Frame(.exit, CommandExit.exited(0).encoded()).encoded())
        #expect(events == [.stdout(Array("x".utf8)), .exit(.exited(0))])
        var again = GuestConversation(helloAlreadySaid: true)
        #expect(throws: FrameError.unexpected("second hello")) {
            try again.receive(Frame(.hello, Hello(listensToPowerButton: true).encoded()).encoded())
        }
    }
}

@Suite struct RunSpecHostStateTests {
    @Test func theWallClockAndEntropyGoAcross() throws {
        var spec = RunSpec(argv: ["true"], environment: [], workingDirectory: "/", uid: 0, gid: 0)
        spec.wallClockNanoseconds = 1_796_306_460_073_195_922
        spec.entropy = (0..<64).map { UInt8($0 * 3 & 0xff) }
        let decoded = try RunSpec(decoding: spec.encoded())
        #expect(decoded == spec)
        #expect(decoded.wallClockNanoseconds == 1_796_306_460_073_195_922)
    }

    @Test func aSpecWithoutThemLeavesTheGuestsOwn() throws {
        let spec = RunSpec(argv: ["true"], environment: [], workingDirectory: "/", uid: 0, gid: 0)
        let decoded = try RunSpec(decoding: spec.encoded())
        #expect(decoded.wallClockNanoseconds == nil && decoded.entropy.isEmpty)
    }

    /// Tag, 4-byte little-endian length, value: a clock that is not 8 bytes, or more entropy than the init takes, is refused.
    @Test func aMalformedClockOrTooMuchEntropyIsRefused() {
        let base = RunSpec(argv: ["true"], environment: [], workingDirectory: "/", uid: 0, gid: 0).encoded()
        func field(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
            let n = UInt32(value.count)
            return [tag, UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)] + value
        }
        #expect(throws: FrameError.self) { try RunSpec(decoding: base + field(16, [1, 2, 3])) }
        #expect(throws: FrameError.self) { try RunSpec(decoding: base + field(17, [UInt8](repeating: 7, count: RunSpec.entropyLimit + 1))) }
        #expect((try? RunSpec(decoding: base + field(17, [UInt8](repeating: 7, count: RunSpec.entropyLimit))))?.entropy.count == RunSpec.entropyLimit)
    }
}
