import BootTimeline
import Foundation
import KsandFoundation
import QEMU

extension SandboxResult {
    /// The result as a JSON document (`ksand run --json FILE`, a detached sandbox's `result.json`): outcome, exit
    /// status, accelerator, phases in seconds, the largest console gaps of boot and shutdown, stop report. Empty
    /// when it cannot be encoded (a measurement that is not a finite number).
    public func jsonReport(exitStatus: Int32) -> Data {
        (try? JSONDocument.prettyPrinted(document(exitStatus: exitStatus))) ?? Data()
    }

    /// The values of ``jsonReport(exitStatus:)``.
    public func document(exitStatus: Int32) -> Document {
        Document(
            exitStatus: exitStatus, outcome: outcome, accelerator: accelerator, start: timeline.start, phases: timeline.phasesBySeconds,
            boot: timeline.boot, shutdown: timeline.shutdownTotal, unaccounted: timeline.unaccounted,
            blame: Blame.compute(lines: consoleLines),
            console: consoleLinesDropped > 0 ? ConsoleCounts(lines: consoleLineCount, notKeptInMemory: consoleLinesDropped) : nil,
            stop: stopReport)
    }

    /// A run's result as ksand writes and reads it back. One object: `exitStatus`, `accelerator`, `start` (`snapshot` when
    /// the run started from one; absent when it booted), `phases` (name →
    /// seconds, only those measured), the outcome's keys (see ``SandboxResult/Outcome``), `boot`, `shutdown` and
    /// `unaccounted` (seconds) when known, `blame`, `console` only when lines were not kept in memory, and `stop`
    /// only when ksand had to stop QEMU.
    public struct Document: Codable, Equatable, Sendable {
        /// The status `ksand run` exited with.
        public var exitStatus: Int32
        public var outcome: Outcome
        public var accelerator: QEMUCommandLine.Accelerator
        /// Booted, or restored from a snapshot.
        public var start: Timeline.Start
        public var phases: [String: Double]
        /// vmm + kernel + init (restore + init on a restored start).
        public var boot: Double?
        /// shutdown + teardown.
        public var shutdown: Double?
        /// What the guest's clock did not see (see ``Timeline/unaccounted``).
        public var unaccounted: Double?
        public var blame: Blame
        public var console: ConsoleCounts?
        public var stop: StopReport?

        public init(exitStatus: Int32, outcome: Outcome, accelerator: QEMUCommandLine.Accelerator, start: Timeline.Start = .cold, phases: [String: Double],
                    boot: Double? = nil, shutdown: Double? = nil, unaccounted: Double? = nil, blame: Blame = Blame(),
                    console: ConsoleCounts? = nil, stop: StopReport? = nil) {
            self.exitStatus = exitStatus
            self.outcome = outcome
            self.accelerator = accelerator
            self.start = start
            self.phases = phases
            self.boot = boot
            self.shutdown = shutdown
            self.unaccounted = unaccounted
            self.blame = blame
            self.console = console
            self.stop = stop
        }

        enum CodingKeys: String, CodingKey {
            case exitStatus, accelerator, start, phases, boot, shutdown, unaccounted, blame, console, stop
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                exitStatus: try container.decode(Int32.self, forKey: .exitStatus),
                outcome: try Outcome(from: decoder),
                accelerator: try container.decode(QEMUCommandLine.Accelerator.self, forKey: .accelerator),
                start: try container.decodeIfPresent(Timeline.Start.self, forKey: .start) ?? .cold,
                phases: try container.decode([String: Double].self, forKey: .phases),
                boot: try container.decodeIfPresent(Double.self, forKey: .boot),
                shutdown: try container.decodeIfPresent(Double.self, forKey: .shutdown),
                unaccounted: try container.decodeIfPresent(Double.self, forKey: .unaccounted),
                blame: try container.decode(Blame.self, forKey: .blame),
                console: try container.decodeIfPresent(ConsoleCounts.self, forKey: .console),
                stop: try container.decodeIfPresent(StopReport.self, forKey: .stop))
        }

        public func encode(to encoder: any Encoder) throws {
            // The outcome's keys sit beside the document's own, in the same object.
            try outcome.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(exitStatus, forKey: .exitStatus)
            try container.encode(accelerator, forKey: .accelerator)
            if start == .snapshot { try container.encode(start, forKey: .start) }
            try container.encode(phases, forKey: .phases)
            try container.encodeIfPresent(boot, forKey: .boot)
            try container.encodeIfPresent(shutdown, forKey: .shutdown)
            try container.encodeIfPresent(unaccounted, forKey: .unaccounted)
            try container.encode(blame, forKey: .blame)
            try container.encodeIfPresent(console, forKey: .console)
            try container.encodeIfPresent(stop, forKey: .stop)
        }
    }

    /// How many console lines arrived, and how many of them were not kept in memory (the log file has them all).
    public struct ConsoleCounts: Codable, Equatable, Sendable {
        public var lines: Int
        public var notKeptInMemory: Int

        public init(lines: Int, notKeptInMemory: Int) {
            self.lines = lines
            self.notKeptInMemory = notKeptInMemory
        }
    }
}

/// An outcome in a run's document: `outcome` names it (`completed`, `panic`, `boot-failure`, `timeout`,
/// `interrupted`, `protocol-error`); a completed command adds `exited` (its status) or `signal`, a panic, boot failure
/// or protocol error its `reason`, a timeout its `timeoutSeconds`.
extension SandboxResult.Outcome: Codable {
    enum Kind: String, Codable {
        case completed, panic, bootFailure = "boot-failure", timeout, interrupted, protocolError = "protocol-error"
    }

    enum CodingKeys: String, CodingKey {
        case outcome, exited, signal, reason, timeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .outcome) {
        case .completed:
            if let signal = try container.decodeIfPresent(Int32.self, forKey: .signal) {
                self = .completed(.signaled(signal))
            } else {
                self = .completed(.exited(try container.decode(Int32.self, forKey: .exited)))
            }
        case .panic: self = .guestPanic(try container.decode(String.self, forKey: .reason))
        case .bootFailure: self = .bootFailed(try container.decode(String.self, forKey: .reason))
        case .timeout: self = .timedOut(seconds: try container.decode(Double.self, forKey: .timeoutSeconds))
        case .interrupted: self = .interrupted
        case .protocolError: self = .protocolError(try container.decode(String.self, forKey: .reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .completed(.exited(let code)):
            try container.encode(Kind.completed, forKey: .outcome)
            try container.encode(code, forKey: .exited)
        case .completed(.signaled(let signal)):
            try container.encode(Kind.completed, forKey: .outcome)
            try container.encode(signal, forKey: .signal)
        case .guestPanic(let reason):
            try container.encode(Kind.panic, forKey: .outcome)
            try container.encode(reason, forKey: .reason)
        case .bootFailed(let reason):
            try container.encode(Kind.bootFailure, forKey: .outcome)
            try container.encode(reason, forKey: .reason)
        case .timedOut(let seconds):
            try container.encode(Kind.timeout, forKey: .outcome)
            try container.encode(seconds, forKey: .timeoutSeconds)
        case .interrupted:
            try container.encode(Kind.interrupted, forKey: .outcome)
        case .protocolError(let error):
            try container.encode(Kind.protocolError, forKey: .outcome)
            try container.encode(error, forKey: .reason)
        }
    }
}
