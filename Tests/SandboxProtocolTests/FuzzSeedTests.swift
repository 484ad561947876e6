import Foundation
import Testing
import SandboxProtocol

/// The frame fuzz target's seeds (Fuzz/corpus/frames) are written by hand in the wire format; they must stay
/// valid, or the fuzzer starts from garbage instead of from real exchanges when the format changes.
@Suite struct FuzzSeedTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/frames")

    static func seed(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func frames(_ name: String) throws -> [Frame] {
        var decoder = FrameDecoder()
        decoder.append(try seed(name))
        var frames: [Frame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        #expect(decoder.pendingByteCount == 0, "\(name) ends inside a frame")
        return frames
    }

    @Test func guestSeedsAreWholeExchanges() throws {
        let run = try Self.frames("guest-run.bin")
        #expect(run.map(\.kind) == [.hello, .stdout, .stderr, .exit])
        #expect(try Hello(decoding: run[0].payload) == Hello(listensToPowerButton: true))
        #expect(try CommandExit(decoding: run[3].payload) == .exited(0))
        #expect(try CommandExit(decoding: try Self.frames("guest-signaled.bin")[2].payload) == .signaled(9))
        #expect(try Self.frames("guest-failure.bin").map(\.kind) == [.hello, .failure])
    }

    @Test func hostSeedsCarryAValidSpec() throws {
        let run = try Self.frames("host-run.bin")
        #expect(run.map(\.kind) == [.spec, .stdin, .stdin, .terminate])
        let spec = try RunSpec(decoding: run[0].payload)
        #expect(spec.argv == ["/bin/sh", "-c", "echo hello; cat >&2"])
        #expect(spec.shares == [.init(tag: "ksand-rw0", path: "/work/main/.build", writable: true)])
        #expect(spec.encoded() == run[0].payload)
        #expect(try Self.seed("spec-payload.bin") == run[0].payload)
    }
}

extension FuzzSeedTests {
    /// The spec as the host sends it: with its wall clock and entropy (spec-payload.bin plus those two fields).
    @Test func theStampedSpecSeedCarriesClockAndEntropy() throws {
        let spec = try RunSpec(decoding: try Self.seed("spec-stamped.bin"))
        #expect(spec.wallClockNanoseconds == 1_796_306_460_073_195_922)
        #expect(spec.entropy.count == 64 && spec.entropy[1] == 48)
        #expect(spec.encoded() == (try Self.seed("spec-stamped.bin")))
    }
}

extension FuzzSeedTests {
    /// A `--net` run's spec: the stamped spec plus the guest's address, gateway and name server.
    @Test func theNetworkedSpecSeedCarriesTheGuestsAddressing() throws {
        let spec = try RunSpec(decoding: try Self.seed("spec-networked.bin"))
        #expect(spec.networkAddress == "10.0.2.15/24")
        #expect(spec.networkGateway == "10.0.2.2")
        #expect(spec.nameservers == ["10.0.2.3"])
        #expect(spec.encoded() == (try Self.seed("spec-networked.bin")))
        // Without the network fields the spec is the stamped one: an older init skips the unknown tags.
        var plain = spec
        plain.networkAddress = nil
        plain.networkGateway = nil
        plain.nameservers = []
        #expect(plain.encoded() == (try Self.seed("spec-stamped.bin")))
    }
}
