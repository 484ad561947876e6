import Foundation
import Synchronization
import Testing
@testable import Sandbox

/// A stop whose VM has already ended is cancelled by the runner: it must see the end at once rather than at its next
/// sample, and must not spin while the target is still there.
@Suite struct ReaperCancellationTests {
    /// A target that is present until `end()`, counting how often it is sampled and whether it was signalled.
    final class FakeTarget: StopTarget, @unchecked Sendable {
        let state = Mutex((present: true, samples: 0, signalled: false))
        var name: String { "fake target" }
        var terminateStep: String { "terminating the fake target" }
        var killStep: String { "killing the fake target" }
        func progress() -> ProcessProgress? {
            state.withLock { state in
                state.samples += 1
                guard state.present else { return nil }
                return ProcessProgress(readChars: 0, writtenChars: 0, readBytes: 0, writtenBytes: 0, cpuTicks: 0, state: "S")
            }
        }
        func terminate() { state.withLock { $0.signalled = true } }
        func kill() { state.withLock { $0.signalled = true } }
        func end() { state.withLock { $0.present = false } }
        var samples: Int { state.withLock { $0.samples } }
        var signalled: Bool { state.withLock { $0.signalled } }
    }

    /// Samples a minute apart: only cancellation can end the wait early.
    static let slowPolicy = StopPolicy(stallWindow: .seconds(300), maxWait: .seconds(600), sampleInterval: .seconds(60))

    @Test func aCancelledStopSeesTheTargetGoneWithoutWaitingForItsNextSample() async throws {
        let target = FakeTarget()
        let stop = Task { await Reaper.stop(target, policy: Self.slowPolicy, ask: { "asked" }) }
        try await Task.sleep(for: .milliseconds(100))
        target.end()
        let cancelled = ContinuousClock.now
        stop.cancel()
        let report = await stop.value
        #expect(ContinuousClock.now - cancelled < .seconds(5))
        #expect(report.endedBy == .ask, "\(report.log)")
        #expect(!target.signalled)
    }

    @Test func aCancelledStopWhoseTargetLingersSamplesItWithoutSpinning() async throws {
        let target = FakeTarget()
        let stop = Task { await Reaper.stop(target, policy: Self.slowPolicy, ask: { "asked" }) }
        try await Task.sleep(for: .milliseconds(50))
        stop.cancel()
        let before = target.samples
        try await Task.sleep(for: .milliseconds(300))
        let during = target.samples - before
        target.end()
        let report = await stop.value
        // One sample per 5 ms pause at most: 60 in 300 ms; a spinning loop would take many thousands.
        #expect(during >= 1 && during <= 80, "\(during) samples in 300 ms")
        #expect(report.endedBy == .ask)
        #expect(!target.signalled)
    }
}
