import ArgumentParser
import Foundation
import KsandFoundation
import Sandbox

struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List detached sandboxes (`ksand run --detach`): running, booting, exited, or orphaned.",
        discussion: """
            An exited sandbox stays listed with its status until `ksand stop NAME` removes it (its output is in its
            state directory). An orphaned one lost its ksand (killed) while its QEMU still runs: `ksand stop NAME`
            stops it. Entries of which nothing runs and no result is left (their ksand was killed, the host
            rebooted) are removed. Only state directories ksand made are listed (or removed): anything else in the
            registry is left alone.

            Exit status: 0, or 1 when the runtime directory or the registry is not the caller's own.
            """
    )

    @Flag(name: .shortAndLong, help: "Show each sandbox's state directory (console log, stdout, stderr, result).") var verbose = false
    @Flag(help: "Print the list as JSON.") var json = false

    func run() async throws {
        let registry = SandboxRegistry()
        var rows: [(sandbox: DetachedSandbox, state: DetachedSandbox.State, record: DetachedSandbox.Record?)] = []
        let sandboxes: [DetachedSandbox]
        do {
            sandboxes = try registry.all()
        } catch {
            report("error: \(error)")
            throw ExitCode(1)
        }
        for sandbox in sandboxes {
            let record = sandbox.record
            let state = sandbox.state(record: record)
            if state == .stale {
                if registry.remove(sandbox) { report("removed the stale entry \(sandbox.name) (nothing of it runs and it left no result)") }
                continue
            }
            rows.append((sandbox, state, record))
        }
        if json {
            let data = try JSONDocument.prettyPrinted(rows.map { DetachedSandbox.Listing($0.sandbox, state: $0.state, record: $0.record) })
            print(String(decoding: data, as: UTF8.self))
            return
        }
        // The PORTS column appears once a sandbox has published ports.
        let showPorts = rows.contains { !($0.record?.published ?? []).isEmpty }
        var table = [["NAME", "STATE", "UPTIME", "QEMU PID"] + (showPorts ? ["PORTS"] : []) + ["COMMAND"] + (verbose ? ["DIRECTORY"] : [])]
        for row in rows {
            let uptime = row.record.map { uptimeText(since: $0.startedAt) } ?? "-"
            let qemu = row.state.isActive ? row.record?.qemu.map { String($0.pid) } ?? "-" : "-"
            let command = row.record.map { $0.command.joined(separator: " ") } ?? "?"
            let published = row.record?.published ?? []
            let ports = published.isEmpty ? "-" : published.map(\.description).joined(separator: ",")
            table.append([row.sandbox.name, row.state.label, row.state.isActive ? uptime : "-", qemu] + (showPorts ? [ports] : [])
                + [command] + (verbose ? [row.sandbox.directory] : []))
        }
        print(render(table), terminator: "")
    }

    private func uptimeText(since start: Double) -> String {
        // Clamped before it becomes an Int: the record is outside input.
        let seconds = Int(min(max(0, Date().timeIntervalSince1970 - start), 1e9))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        return "\(seconds / 3600)h"
    }

    /// Columns padded to their widest cell; the last column is not padded.
    private func render(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == columns - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }.joined()
    }
}
