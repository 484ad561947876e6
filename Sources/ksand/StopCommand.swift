import ArgumentParser
import Foundation
import Sandbox

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a process by watching its progress: SIGTERM, wait while its I/O moves, SIGKILL once it stalls.",
        discussion: """
            The reaper ksand uses for its own VMs, for any process: after SIGTERM it samples /proc/PID/io and
            /proc/PID/stat about every 100 ms. While the I/O counters keep moving it keeps waiting (up to --max-wait);
            once they have been still for --stall it sends SIGKILL. A process flushing data is not killed mid-write;
            one that is stuck is not waited on. Prints which step ended the process, with each step's counters.
            """
    )

    @Option(help: ArgumentHelp("The process to stop.", valueName: "PID")) var pid: Int32
    @Option(help: ArgumentHelp("Seconds of still I/O after which ksand escalates.", valueName: "SECONDS")) var stall: Double = 2
    @Option(help: ArgumentHelp("Seconds to wait at most while I/O still moves.", valueName: "SECONDS")) var maxWait: Double = 300
    @Option(help: ArgumentHelp("Write the stop report as JSON to this file.", valueName: "FILE")) var json: String?
    @Flag(name: .shortAndLong, help: "Show each step and its counters as it happens.") var verbose = false

    func validate() throws {
        if pid <= 1 { throw ValidationError("--pid \(pid): not a process ksand may stop") }
        if stall <= 0 || maxWait <= 0 { throw ValidationError("--stall and --max-wait must be positive") }
        if maxWait < stall { throw ValidationError("--max-wait \(maxWait) is shorter than --stall \(stall)") }
    }

    func run() async throws {
        guard ProcessProgress.sample(pid: pid) != nil else {
            report("error: no running process \(pid) (or its /proc/\(pid)/io is not readable: stopping another user's process needs root)")
            throw ExitCode(1)
        }
        let policy = StopPolicy(stallWindow: .milliseconds(Int(stall * 1000)), maxWait: .milliseconds(Int(maxWait * 1000)))
        var log: (@Sendable (String) -> Void)?
        if verbose { log = { @Sendable line in report(line) } }
        let stopReport = await Reaper.stop(pid: pid, policy: policy, log: log)
        report("process \(pid) \(stopReport.description)")
        if let json {
            let document: [String: Any] = [
                "pid": Int(pid), "endedBy": stopReport.endedBy.rawValue, "seconds": stopReport.duration.seconds,
                "ioMovingWhenKilled": stopReport.ioMovingWhenKilled, "log": stopReport.log,
            ]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            guard FileManager.default.createFile(atPath: absolute(json), contents: data) else {
                report("error: cannot write \(json)")
                throw ExitCode(1)
            }
        }
    }
}
