import Testing
@testable import SandboxProtocol

@Suite struct HelloTests {
    @Test func thePowerButtonFlagRoundTrips() throws {
        for listens in [true, false] {
            let hello = Hello(listensToPowerButton: listens)
            #expect(try Hello(decoding: hello.encoded()) == hello)
        }
    }

    @Test func aVersionOnlyHelloMeansNoPowerButton() throws {
        #expect(try Hello(decoding: [Frame.protocolVersion]).listensToPowerButton == false)
    }

    @Test func anotherVersionIsAnErrorThatSaysWhatToRebuild() {
        #expect(throws: FrameError.versionMismatch(guest: 9, host: Frame.protocolVersion)) { try Hello(decoding: [9, 1]) }
        #expect(FrameError.versionMismatch(guest: 9, host: 1).description.contains("rebuild the initramfs"))
        #expect(throws: FrameError.self) { try Hello(decoding: []) }
    }
}
