import Foundation
import KsandFoundation
@testable import Sandbox
import Testing

/// The documents of detached sandboxes, pinned: `ps --json`, `stop --json` (sandboxes and `--pid`), and the records a
/// supervisor keeps (`state.json`, `stop-request.json`). Each value encodes to exactly its golden text (recorded from
/// the ksand that wrote them with JSONSerialization), which decodes back to the same value; hostile records are nil.
@Suite struct DetachedDocumentTests {
    static let sandbox = DetachedSandbox(directory: "/run/user/1000/ksand/sandboxes/web")

    static let record: DetachedSandbox.Record = {
        var record = DetachedSandbox.Record(name: "web", supervisor: ProcessIdentity(pid: 9020, startTicks: 1356323),
                                            command: ["sh", "-c", "echo started; exec sleep 600"], startedAt: 1796164439.8029027)
        record.qemu = ProcessIdentity(pid: 9035, startTicks: 1356367)
        record.ready = true
        record.powerButton = true
        record.machine = "microvm"
        record.accelerator = "tcg"
        return record
    }()

    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    @Test(arguments: [(DetachedSandbox.State.running(ready: true), Self.psRunning), (.exited(status: 130), Self.psExited)])
    func psListsEachSandbox(state: DetachedSandbox.State, golden: String) throws {
        let listing = [DetachedSandbox.Listing(Self.sandbox, state: state, record: Self.record)]
        #expect(text(try JSONDocument.prettyPrinted(listing)) == golden)
        #expect(try decode([DetachedSandbox.Listing].self, golden) == listing)
    }

    /// A sandbox without a record yet is listed with its name, state and directory only.
    /// Without ACPI the kernel halts; whichever ends its QEMU first (the supervising ksand or the stop's reaper), the
    /// summary says it halted rather than powered off.
    @Test func aHaltedGuestIsSaidToHaveHaltedHoweverItsQEMUEnded() {
        #expect(DetachedStop.summary(step: .ask, seconds: 2.12, moving: false, poweredOff: true, halted: true)
            == "stopped after 2.12s: the guest shut down but its kernel halted instead of powering off (no ACPI?)")
        #expect(DetachedStop.summary(step: .sigterm, seconds: 2.5, moving: false, poweredOff: true, halted: true)
            .hasPrefix("the guest shut down but its kernel halted instead of powering off (no ACPI?); QEMU ended on SIGTERM"))
        #expect(DetachedStop.summary(step: .ask, seconds: 0.1, moving: false, poweredOff: true) == "stopped after 0.10s: the guest powered off")
    }

    @Test func psListsASandboxWithoutARecord() throws {
        let listing = DetachedSandbox.Listing(Self.sandbox, state: .running(ready: false), record: nil)
        let golden = #"{"directory":"\/run\/user\/1000\/ksand\/sandboxes\/web","name":"web","state":"booting"}"#
        #expect(text(try JSONDocument.compact(listing)) == golden)
        #expect(try decode(DetachedSandbox.Listing.self, golden) == listing)
    }

    @Test func stopReportsEachSandbox() throws {
        let log = ["[0.003s] asked process 9035 to stop: pressed the ACPI power button (QMP system_powerdown)",
                   "[0.003s] counters: rchar=2870148 wchar=20183 read_bytes=483328 write_bytes=0 cpu=222"]
        let stopped = DetachedStop.Outcome(endedBy: .ask, seconds: 0.107, ioMovingWhenKilled: false, guestPoweredOff: true, exitStatus: 130,
                                           summary: "stopped after 0.11s: the guest powered off", log: log, failed: false)
        let reports = [stopped.report(name: "web")]
        #expect(text(try JSONDocument.prettyPrinted(reports)) == Self.stopStopped)
        #expect(try decode([DetachedStop.Report].self, Self.stopStopped) == reports)

        // Nothing had to be stopped: no `endedBy`.
        let exited = DetachedStop.Outcome(endedBy: nil, seconds: 0, ioMovingWhenKilled: false, guestPoweredOff: true, exitStatus: 130,
                                          summary: "had already exited with status 130", log: [], failed: false)
        #expect(text(try JSONDocument.prettyPrinted([exited.report(name: "web")])) == Self.stopExited)
        #expect(try decode([DetachedStop.Report].self, Self.stopExited) == [exited.report(name: "web")])
    }

    /// `ksand stop --pid`: the stop report's keys and the `pid` in one object; read back to the millisecond.
    @Test func stopReportsAProcess() throws {
        let log = ["[0.000s] sending SIGTERM to 9172", "[0.001s] counters: rchar=6976 wchar=0 read_bytes=0 write_bytes=0 cpu=0"]
        let report = ProcessStopReport(pid: 9172, report: StopReport(endedBy: .sigterm, ioMovingWhenKilled: false,
                                                                     duration: .nanoseconds(101_234_929), log: log))
        #expect(text(try JSONDocument.prettyPrinted(report)) == Self.stopProcess)
        var read = report
        read.report.duration = .milliseconds(101)
        #expect(try decode(ProcessStopReport.self, Self.stopProcess) == read)
        let exact = ProcessStopReport(pid: 7, report: StopReport(endedBy: .alreadyGone, ioMovingWhenKilled: true, duration: .milliseconds(2125), log: []))
        let golden = #"{"endedBy":"already gone","ioMovingWhenKilled":true,"log":[],"pid":7,"seconds":2.125}"#
        #expect(text(try JSONDocument.compact(exact)) == golden)
        #expect(try decode(ProcessStopReport.self, golden) == exact)
    }

    /// `state.json`: one line, keys sorted (earlier ksand left them in no fixed order, as in the recorded one).
    @Test func theRecordIsOneLine() throws {
        let golden = #"{"accelerator":"tcg","command":["sh","-c","echo started; exec sleep 600"],"machine":"microvm","name":"web","powerButton":true,"qemu":{"pid":9035,"startTicks":1356367},"ready":true,"startedAt":1796164439.8029027,"supervisor":{"pid":9020,"startTicks":1356323}}"#
        #expect(text(try JSONDocument.compact(Self.record)) == golden)
        #expect(try decode(DetachedSandbox.Record.self, golden) == Self.record)
        let recorded = try decode(DetachedSandbox.Record.self, Self.recordAsWrittenBefore)
        #expect(recorded.name == "web" && recorded.qemu?.pid == 9539 && recorded.supervisor.startTicks == 1358522)
        #expect(recorded.ready && recorded.powerButton && recorded.machine == "microvm")
        #expect(recorded.backend == nil && recorded.ownsQMP, "a record written before backends is QEMU's own")
    }

    /// A libvirt sandbox's record names the connection and the domain, and ps lists them.
    @Test func aLibvirtRecordNamesItsDomain() throws {
        var record = Self.record
        record.backend = "libvirt"
        record.connectURI = "qemu:///system"
        record.domainUUID = "b4c451d5-4108-4669-84b7-a5ed314660a4"
        let golden = #"{"accelerator":"tcg","backend":"libvirt","command":["sh","-c","echo started; exec sleep 600"],"connectURI":"qemu:\/\/\/system","domainUUID":"b4c451d5-4108-4669-84b7-a5ed314660a4","machine":"microvm","name":"web","powerButton":true,"qemu":{"pid":9035,"startTicks":1356367},"ready":true,"startedAt":1796164439.8029027,"supervisor":{"pid":9020,"startTicks":1356323}}"#
        #expect(text(try JSONDocument.compact(record)) == golden)
        #expect(try decode(DetachedSandbox.Record.self, golden) == record)
        #expect(!record.ownsQMP)
        let listing = DetachedSandbox.Listing(DetachedSandbox(directory: "/run/ksand/sandboxes/web"), state: .running(ready: true), record: record)
        #expect(listing.backend == "libvirt" && listing.connectURI == "qemu:///system" && listing.domainUUID == record.domainUUID)
    }

    @Test func theStopRequestIsOneLine() throws {
        let request = DetachedSandbox.StopRequest(stallWindowSeconds: 2, maxWaitSeconds: 300)
        // As earlier ksand wrote it, too.
        let golden = #"{"maxWaitSeconds":300,"stallWindowSeconds":2}"#
        #expect(text(try JSONDocument.compact(request)) == golden)
        #expect(try decode(DetachedSandbox.StopRequest.self, golden) == request)
    }

    /// The supervisor turns the request into a stop policy: times that are not positive or exceed a week are no
    /// request, as `ksand stop` would not have written them.
    @Test(arguments: [
        #"{"maxWaitSeconds":1e300,"stallWindowSeconds":2}"#, #"{"maxWaitSeconds":300,"stallWindowSeconds":0}"#,
        #"{"maxWaitSeconds":300,"stallWindowSeconds":-1}"#, #"{"maxWaitSeconds":604801,"stallWindowSeconds":2}"#,
        #"{"maxWaitSeconds":300}"#, #"{"maxWaitSeconds":"300","stallWindowSeconds":2}"#, "", "{\"maxWait",
    ])
    func aHostileStopRequestIsNone(_ text: String) {
        #expect(JSONDocument.decode(DetachedSandbox.StopRequest.self, from: Data(text.utf8)) == nil)
    }

    @Test(arguments: [
        #"{"name":"web","supervisor":{"pid":99999999999,"startTicks":1},"command":[],"startedAt":0,"ready":true,"powerButton":false}"#,
        #"{"name":"web","supervisor":{"pid":1,"startTicks":-1},"command":[],"startedAt":0,"ready":true,"powerButton":false}"#,
        #"{"name":"web","supervisor":{"pid":1,"startTicks":1},"command":"sh","startedAt":0,"ready":true,"powerButton":false}"#,
        #"{"name":"web","command":[],"startedAt":0,"ready":true,"powerButton":false}"#, "[]", "{\"name\":",
    ])
    func aHostileRecordIsNone(_ text: String) {
        #expect(JSONDocument.decode(DetachedSandbox.Record.self, from: Data(text.utf8)) == nil)
    }

    static let psRunning = #"""
[
  {
    "accelerator" : "tcg",
    "backend" : "qemu",
    "command" : [
      "sh",
      "-c",
      "echo started; exec sleep 600"
    ],
    "directory" : "\/run\/user\/1000\/ksand\/sandboxes\/web",
    "machine" : "microvm",
    "name" : "web",
    "qemuPid" : 9035,
    "startedAt" : 1796164439.8029027,
    "state" : "running",
    "supervisorPid" : 9020
  }
]
"""#

    static let psExited = #"""
[
  {
    "accelerator" : "tcg",
    "backend" : "qemu",
    "command" : [
      "sh",
      "-c",
      "echo started; exec sleep 600"
    ],
    "directory" : "\/run\/user\/1000\/ksand\/sandboxes\/web",
    "exitStatus" : 130,
    "machine" : "microvm",
    "name" : "web",
    "qemuPid" : 9035,
    "startedAt" : 1796164439.8029027,
    "state" : "exited 130",
    "supervisorPid" : 9020
  }
]
"""#

    static let stopStopped = #"""
[
  {
    "endedBy" : "ask",
    "exitStatus" : 130,
    "failed" : false,
    "guestPoweredOff" : true,
    "ioMovingWhenKilled" : false,
    "log" : [
      "[0.003s] asked process 9035 to stop: pressed the ACPI power button (QMP system_powerdown)",
      "[0.003s] counters: rchar=2870148 wchar=20183 read_bytes=483328 write_bytes=0 cpu=222"
    ],
    "name" : "web",
    "seconds" : 0.107,
    "summary" : "stopped after 0.11s: the guest powered off"
  }
]
"""#

    static let stopExited = #"""
[
  {
    "exitStatus" : 130,
    "failed" : false,
    "guestPoweredOff" : true,
    "ioMovingWhenKilled" : false,
    "log" : [

    ],
    "name" : "web",
    "seconds" : 0,
    "summary" : "had already exited with status 130"
  }
]
"""#

    static let stopProcess = #"""
{
  "endedBy" : "SIGTERM",
  "ioMovingWhenKilled" : false,
  "log" : [
    "[0.000s] sending SIGTERM to 9172",
    "[0.001s] counters: rchar=6976 wchar=0 read_bytes=0 write_bytes=0 cpu=0"
  ],
  "pid" : 9172,
  "seconds" : 0.101234929
}
"""#

    static let recordAsWrittenBefore = #"""
{"supervisor":{"startTicks":1358522,"pid":9493},"machine":"microvm","command":["sh","-c","echo started; exec sleep 600"],"powerButton":true,"accelerator":"tcg","qemu":{"startTicks":1358573,"pid":9539},"ready":true,"startedAt":1796164461.8453274,"name":"web"}
"""#
}
