import BootTimeline
import Foundation

extension SandboxResult {
    /// The result as a JSON document: outcome, exit status, accelerator, phases in seconds, the largest console gaps of
    /// boot and shutdown, stop report.
    public func jsonReport(exitStatus: Int32) -> Data {
        var document: [String: Any] = [
            "exitStatus": Int(exitStatus),
            "accelerator": accelerator.rawValue,
            "phases": timeline.phasesBySeconds,
        ]
        switch outcome {
        case .completed(let exit):
            document["outcome"] = "completed"
            switch exit {
            case .exited(let code): document["exited"] = Int(code)
            case .signaled(let signal): document["signal"] = Int(signal)
            }
        case .guestPanic(let reason): document["outcome"] = "panic"; document["reason"] = reason
        case .bootFailed(let reason): document["outcome"] = "boot-failure"; document["reason"] = reason
        case .timedOut(let seconds): document["outcome"] = "timeout"; document["timeoutSeconds"] = seconds
        case .interrupted: document["outcome"] = "interrupted"
        case .protocolError(let error): document["outcome"] = "protocol-error"; document["reason"] = error
        }
        if let boot = timeline.boot { document["boot"] = boot }
        if let shutdown = timeline.shutdownTotal { document["shutdown"] = shutdown }
        let blame = Blame.compute(lines: consoleLines)
        document["blame"] = ["boot": blame.boot.map(\.jsonObject), "shutdown": blame.shutdown.map(\.jsonObject)]
        if let unaccounted = timeline.unaccounted { document["unaccounted"] = unaccounted }
        if consoleLinesDropped > 0 {
            document["console"] = ["lines": consoleLineCount, "notKeptInMemory": consoleLinesDropped]
        }
        if let stop = stopReport { document["stop"] = stop.jsonObject }
        return (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }
}
