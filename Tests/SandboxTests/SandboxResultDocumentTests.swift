import Foundation
import KsandFoundation
@testable import Sandbox
import Testing

/// A run's JSON document (`ksand run --json`, a detached sandbox's `result.json`), pinned: each value encodes to
/// exactly its golden text, which decodes back to the same value; documents as earlier ksand wrote them read back;
/// foreign or hostile ones are no result, never a trap.
@Suite struct SandboxResultDocumentTests {
    static let lines = [
        ConsoleLine(hostSeconds: 0.2, kernelSeconds: 0.0, text: "Linux version 6.1.0 (ksand@build)"),
        ConsoleLine(hostSeconds: 0.9, kernelSeconds: 0.75, text: "clocksource: Switched to clocksource tsc"),
        ConsoleLine(hostSeconds: 1.5, kernelSeconds: 1.25, text: "Run /init as init process"),
        ConsoleLine(hostSeconds: 1.6, kernelSeconds: 1.375, text: "ksand: init-start"),
        ConsoleLine(hostSeconds: 1.7, kernelSeconds: 1.5, text: "ksand: command-start"),
        ConsoleLine(hostSeconds: 1.8, kernelSeconds: 1.625, text: "ksand: command-exit 0"),
        ConsoleLine(hostSeconds: 1.9, kernelSeconds: 1.6875, text: "ksand: power-off"),
        ConsoleLine(hostSeconds: 2.9, kernelSeconds: 2.6875, text: "ACPI: PM: Preparing to enter system sleep state S5 \u{1b}[31m \"q\" /x"),
        ConsoleLine(hostSeconds: 3.0, kernelSeconds: 2.75, text: "reboot: Power down"),
    ]

    static let allPhases: [Timeline.Phase: Double] = [
        .vmm: 0.25, .kernel: 1.125, .`init`: 0.125, .command: 0.125, .shutdown: 1.125, .teardown: 0.0625, .total: 3.0,
    ]

    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    func decode(_ text: String) throws -> SandboxResult.Document {
        try JSONDecoder().decode(SandboxResult.Document.self, from: Data(text.utf8))
    }

    /// A completed run with every part a document can have but a stop: blame with a hint and interjections, escaped
    /// guest text, console counts.
    @Test func aCompletedRunsDocument() throws {
        var result = SandboxResult(outcome: .completed(.exited(3)), timeline: Timeline(phases: Self.allPhases), consoleTail: [],
                                   consoleLines: Self.lines, qemuStderr: "", accelerator: .tcg)
        result.consoleLineCount = 12000
        result.consoleLinesDropped = 3000
        #expect(text(result.jsonReport(exitStatus: 3)) == Self.completed)
        let document = result.document(exitStatus: 3)
        #expect(document.console == SandboxResult.ConsoleCounts(lines: 12000, notKeptInMemory: 3000))
        #expect(document.boot == 1.5 && document.shutdown == 1.1875 && document.unaccounted == 0.1875)
        #expect(document.blame.shutdown.first?.hint != nil)
        #expect(try decode(Self.completed) == document)
    }

    /// Each outcome's own keys: `exited` or `signal`, `reason`, `timeoutSeconds`; `stop` when QEMU was stopped.
    @Test func eachOutcomeHasItsKeys() throws {
        let signaled = SandboxResult(outcome: .completed(.signaled(9)), timeline: Timeline(phases: [.vmm: 0.25]), consoleTail: [],
                                     consoleLines: Self.lines, qemuStderr: "", accelerator: .kvm)
        #expect(text(signaled.jsonReport(exitStatus: 137)) == Self.signaled)
        #expect(try decode(Self.signaled) == signaled.document(exitStatus: 137))

        let stop = StopReport(endedBy: .sigkill, ioMovingWhenKilled: true, duration: .milliseconds(2125), log: ["asked", "SIGTERM"])
        let timedOut = SandboxResult.Document(exitStatus: 3, outcome: .timedOut(seconds: 2.5), accelerator: .tcg, phases: ["vmm": 0.25], stop: stop)
        #expect(text(try JSONDocument.prettyPrinted(timedOut)) == Self.timedOut)
        #expect(try decode(Self.timedOut) == timedOut)

        let others: [(SandboxResult.Outcome, String)] = [
            (.guestPanic("Attempted to kill init!"), Self.panicked), (.bootFailed("the init failed"), Self.bootFailed),
            (.interrupted, Self.interrupted), (.protocolError("a frame of 9 bytes"), Self.protocolError),
        ]
        for (outcome, golden) in others {
            let document = SandboxResult.Document(exitStatus: 3, outcome: outcome, accelerator: .tcg, phases: ["vmm": 0.25])
            #expect(text(try JSONDocument.prettyPrinted(document)) == golden, "\(outcome)")
            #expect(try decode(golden) == document, "\(outcome)")
        }
    }

    /// The documents earlier ksand wrote (with JSONSerialization, which sorted `exited` before `exitStatus`) read
    /// back as the same values; one recorded from a real detached sandbox stopped by `ksand stop`.
    @Test func documentsAsWrittenBeforeReadBack() throws {
        #expect(try decode(Self.completedAsWrittenBefore) == decode(Self.completed))
        let detached = try decode(Self.detachedResultAsWrittenBefore)
        #expect(detached.exitStatus == 130)
        #expect(detached.outcome == .interrupted)
        #expect(detached.accelerator == .tcg)
        #expect(detached.phases.count == 7)
        #expect(detached.blame.boot.count == 5 && detached.blame.shutdown.count == 2)
        #expect(detached.blame.boot.first?.interjections.count == 5)
        #expect(detached.stop?.endedBy == .ask)
        // Read back to the millisecond, as before.
        #expect(detached.stop?.duration == .milliseconds(208))
        #expect(detached.console == nil)
    }

    /// A result file is outside input: what is not a whole result of this shape, or holds values out of range, is
    /// no result.
    @Test(arguments: [
        "", "{", "[]", #"{"exitStatus": 3}"#, "null",
        #"{"exitStatus": 99999999999, "outcome": "interrupted", "accelerator": "tcg", "phases": {}, "blame": {"boot": [], "shutdown": []}}"#,
        #"{"exitStatus": 3, "outcome": "exploded", "accelerator": "tcg", "phases": {}, "blame": {"boot": [], "shutdown": []}}"#,
        #"{"exitStatus": 3, "outcome": "completed", "accelerator": "tcg", "phases": {}, "blame": {"boot": [], "shutdown": []}}"#,
        #"{"exitStatus": 3, "outcome": "interrupted", "accelerator": "tcg", "phases": {}, "blame": {"boot": [], "shutdown": []}, "stop": {"endedBy": "ask", "seconds": 1e300}}"#,
        #"{"exitStatus": 3, "outcome": "interrupted", "accelerator": "tcg", "phases": {}, "blame": {"boot": [], "shutdown": []}, "stop": {"endedBy": "ask", "seconds": -1}}"#,
        #"{"exitStatus": 3, "outcome": "interrupted", "accelerator": "tcg", "phases": {"vmm": "fast"}, "blame": {"boot": [], "shutdown": []}}"#,
    ])
    func foreignDocumentsAreNoResult(_ text: String) {
        #expect(JSONDocument.decode(SandboxResult.Document.self, from: Data(text.utf8)) == nil)
    }

    @Test func theTruncatedRealDocumentIsNoResult() {
        let whole = Data(Self.detachedResultAsWrittenBefore.utf8)
        for length in stride(from: 0, to: whole.count, by: 97) {
            #expect(JSONDocument.decode(SandboxResult.Document.self, from: whole.prefix(length)) == nil, "\(length) bytes")
        }
    }

    static let panicked = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [

    ],
    "shutdown" : [

    ]
  },
  "exitStatus" : 3,
  "outcome" : "panic",
  "phases" : {
    "vmm" : 0.25
  },
  "reason" : "Attempted to kill init!"
}
"""#

    static let bootFailed = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [

    ],
    "shutdown" : [

    ]
  },
  "exitStatus" : 3,
  "outcome" : "boot-failure",
  "phases" : {
    "vmm" : 0.25
  },
  "reason" : "the init failed"
}
"""#

    static let interrupted = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [

    ],
    "shutdown" : [

    ]
  },
  "exitStatus" : 3,
  "outcome" : "interrupted",
  "phases" : {
    "vmm" : 0.25
  }
}
"""#

    static let protocolError = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [

    ],
    "shutdown" : [

    ]
  },
  "exitStatus" : 3,
  "outcome" : "protocol-error",
  "phases" : {
    "vmm" : 0.25
  },
  "reason" : "a frame of 9 bytes"
}
"""#

    static let completed = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [
      {
        "after" : "Run \/init as init process",
        "at" : 0,
        "before" : "Linux version 6.1.0 (ksand@build)",
        "interjections" : [
          "clocksource: Switched to clocksource tsc"
        ],
        "seconds" : 1.25
      },
      {
        "after" : "ksand: init-start",
        "at" : 1.25,
        "before" : "Run \/init as init process",
        "seconds" : 0.125
      }
    ],
    "shutdown" : [
      {
        "after" : "ACPI: PM: Preparing to enter system sleep state S5 \u001b[31m \"q\" \/x",
        "at" : 1.6875,
        "before" : "ksand: power-off",
        "hint" : "the kernel's reboot notifiers and device shutdown run here",
        "seconds" : 1
      },
      {
        "after" : "ksand: power-off",
        "at" : 1.625,
        "before" : "ksand: command-exit 0",
        "seconds" : 0.0625
      },
      {
        "after" : "reboot: Power down",
        "at" : 2.6875,
        "before" : "ACPI: PM: Preparing to enter system sleep state S5 \u001b[31m \"q\" \/x",
        "seconds" : 0.0625
      }
    ]
  },
  "boot" : 1.5,
  "console" : {
    "lines" : 12000,
    "notKeptInMemory" : 3000
  },
  "exitStatus" : 3,
  "exited" : 3,
  "outcome" : "completed",
  "phases" : {
    "command" : 0.125,
    "init" : 0.125,
    "kernel" : 1.125,
    "shutdown" : 1.125,
    "teardown" : 0.0625,
    "total" : 3,
    "vmm" : 0.25
  },
  "shutdown" : 1.1875,
  "unaccounted" : 0.1875
}
"""#

    static let completedAsWrittenBefore = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [
      {
        "after" : "Run \/init as init process",
        "at" : 0,
        "before" : "Linux version 6.1.0 (ksand@build)",
        "interjections" : [
          "clocksource: Switched to clocksource tsc"
        ],
        "seconds" : 1.25
      },
      {
        "after" : "ksand: init-start",
        "at" : 1.25,
        "before" : "Run \/init as init process",
        "seconds" : 0.125
      }
    ],
    "shutdown" : [
      {
        "after" : "ACPI: PM: Preparing to enter system sleep state S5 \u001b[31m \"q\" \/x",
        "at" : 1.6875,
        "before" : "ksand: power-off",
        "hint" : "the kernel's reboot notifiers and device shutdown run here",
        "seconds" : 1
      },
      {
        "after" : "ksand: power-off",
        "at" : 1.625,
        "before" : "ksand: command-exit 0",
        "seconds" : 0.0625
      },
      {
        "after" : "reboot: Power down",
        "at" : 2.6875,
        "before" : "ACPI: PM: Preparing to enter system sleep state S5 \u001b[31m \"q\" \/x",
        "seconds" : 0.0625
      }
    ]
  },
  "boot" : 1.5,
  "console" : {
    "lines" : 12000,
    "notKeptInMemory" : 3000
  },
  "exited" : 3,
  "exitStatus" : 3,
  "outcome" : "completed",
  "phases" : {
    "command" : 0.125,
    "init" : 0.125,
    "kernel" : 1.125,
    "shutdown" : 1.125,
    "teardown" : 0.0625,
    "total" : 3,
    "vmm" : 0.25
  },
  "shutdown" : 1.1875,
  "unaccounted" : 0.1875
}
"""#

    static let signaled = #"""
{
  "accelerator" : "kvm",
  "blame" : {
    "boot" : [
      {
        "after" : "Run \/init as init process",
        "at" : 0,
        "before" : "Linux version 6.1.0 (ksand@build)",
        "interjections" : [
          "clocksource: Switched to clocksource tsc"
        ],
        "seconds" : 1.25
      },
      {
        "after" : "ksand: init-start",
        "at" : 1.25,
        "before" : "Run \/init as init process",
        "seconds" : 0.125
      }
    ],
    "shutdown" : [
      {
        "after" : "ACPI: PM: Preparing to enter system sleep state S5 \u001b[31m \"q\" \/x",
        "at" : 1.6875,
        "before" : "ksand: power-off",
        "hint" : "the kernel's reboot notifiers and device shutdown run here",
        "seconds" : 1
      },
      {
        "after" : "ksand: power-off",
        "at" : 1.625,
        "before" : "ksand: command-exit 0",
        "seconds" : 0.0625
      },
      {
        "after" : "reboot: Power down",
        "at" : 2.6875,
        "before" : "ACPI: PM: Preparing to enter system sleep state S5 \u001b[31m \"q\" \/x",
        "seconds" : 0.0625
      }
    ]
  },
  "exitStatus" : 137,
  "outcome" : "completed",
  "phases" : {
    "vmm" : 0.25
  },
  "signal" : 9
}
"""#

    static let timedOut = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [

    ],
    "shutdown" : [

    ]
  },
  "exitStatus" : 3,
  "outcome" : "timeout",
  "phases" : {
    "vmm" : 0.25
  },
  "stop" : {
    "endedBy" : "SIGKILL",
    "ioMovingWhenKilled" : true,
    "log" : [
      "asked",
      "SIGTERM"
    ],
    "seconds" : 2.125
  },
  "timeoutSeconds" : 2.5
}
"""#

    static let detachedResultAsWrittenBefore = #"""
{
  "accelerator" : "tcg",
  "blame" : {
    "boot" : [
      {
        "after" : "Freeing unused kernel image (initmem) memory: 764K",
        "at" : 1.016826,
        "before" : "sched_clock: Marking stable (917101329, 96328666)->(1413579835, -400149840)",
        "interjections" : [
          "clocksource: timekeeping watchdog on CPU0: Marking clocksource 'tsc-early' as unstable because the skew is too large:",
          "clocksource:                       'refined-jiffies' wd_nsec: 512032000 wd_now: fffedc08 wd_last: fffedb88 mask: ffffffff",
          "clocksource:                       'tsc-early' cs_nsec: 599856801 cs_now: 10df30a26 cs_last: b68405e6 mask: ffffffffffffffff",
          "clocksource:                       'tsc-early' is current clocksource.",
          "tsc: Marking TSC unstable due to clocksource watchdog"
        ],
        "seconds" : 0.519377
      },
      {
        "after" : "Freeing initrd memory: 8648K",
        "at" : 0.819132,
        "before" : "00:00: ttyS0 at I\/O 0x3f8 (irq = 51, base_baud = 115200) is a 16550A",
        "seconds" : 0.18901800000000013
      },
      {
        "after" : "ksand: init-start",
        "at" : 1.569193,
        "before" : "sched_clock: Marking unstable (1472610302, 96328666)<-(1969093881, -400149840)",
        "interjections" : [
          "clocksource: Switched to clocksource refined-jiffies"
        ],
        "seconds" : 0.10857699999999992
      },
      {
        "after" : "input: Power Button as \/devices\/LNXSYSTM:00\/LNXSYBUS:00\/PNP0C0C:00\/input\/input0",
        "at" : 0.700896,
        "before" : "io scheduler kyber registered",
        "seconds" : 0.07455400000000001
      },
      {
        "after" : "PCI: Using ACPI for IRQ routing",
        "at" : 0.490758,
        "before" : "PCI: Using E820 reservations for host bridge windows",
        "seconds" : 0.07013399999999992
      }
    ],
    "shutdown" : [
      {
        "after" : "ksand: power-off",
        "at" : 1.906139,
        "before" : "ksand: command-exit status=143",
        "seconds" : 0.020624999999999893
      },
      {
        "after" : "ACPI: PM: Preparing to enter system sleep state S5",
        "at" : 1.926764,
        "before" : "ksand: power-off",
        "hint" : "the kernel's reboot notifiers and device shutdown run here",
        "seconds" : 0.0006660000000000554
      }
    ]
  },
  "boot" : 2.016504928,
  "exitStatus" : 130,
  "outcome" : "interrupted",
  "phases" : {
    "command" : 0.03824099999999997,
    "init" : 0.19012800000000007,
    "kernel" : 1.67777,
    "shutdown" : 0.02129099999999995,
    "teardown" : 0.009188809999999936,
    "total" : 2.561368785,
    "vmm" : 0.14860692800000003
  },
  "shutdown" : 0.030479809999999885,
  "stop" : {
    "endedBy" : "ask",
    "ioMovingWhenKilled" : false,
    "log" : [
      "[0.007s] asked process 9539 to stop: pressed the ACPI power button (QMP system_powerdown)",
      "[0.007s] counters: rchar=129454 wchar=13962 read_bytes=0 write_bytes=0 cpu=154"
    ],
    "seconds" : 0.208351667
  },
  "unaccounted" : 0.4761430470000003
}
"""#
}
