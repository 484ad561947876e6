import BootTimeline
import TOMLKit

/// Typed reads from a TOML table whose errors name the file, the section and the key.
struct TableReader {
    var path: String

    func requireOnly(_ known: [String], in table: TOMLTable, section: String?) throws(ProjectFileError) {
        for key in table.keys where !known.contains(key) {
            let place = section.map { "in [\($0)]" } ?? "at the top level"
            throw ProjectFileError(path: path, message: "unknown \(section == nil ? "section" : "key") '\(key)' \(place); "
                + "known: \(known.joined(separator: ", "))")
        }
    }

    func table(_ key: String, in table: TOMLTable) throws(ProjectFileError) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let result = value.table else { throw mistyped(key, section: nil, expected: "a table [\(key)]") }
        return result
    }

    func string(_ key: String, in table: TOMLTable, section: String) throws(ProjectFileError) -> String? {
        guard let value = table[key] else { return nil }
        guard let result = value.string else { throw mistyped(key, section: section, expected: "a string") }
        return result
    }

    /// `start = "snapshot"` or `"cold"`.
    func start(in table: TOMLTable, section: String) throws(ProjectFileError) -> Timeline.Start? {
        guard let text = try string("start", in: table, section: section) else { return nil }
        guard let start = Timeline.Start(rawValue: text) else {
            throw ProjectFileError(path: path, message: "[\(section)] start = \"\(text)\": expected \"snapshot\" (start from the snapshot of the machine's boot) or \"cold\" (boot)")
        }
        return start
    }

    func path(_ key: String, in table: TOMLTable, section: String, relativeTo directory: String) throws(ProjectFileError) -> String? {
        try string(key, in: table, section: section).map { ProjectFile.resolve($0, relativeTo: directory) }
    }

    func strings(_ key: String, in table: TOMLTable, section: String) throws(ProjectFileError) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw mistyped(key, section: section, expected: "an array of strings") }
        var result: [String] = []
        for element in array {
            guard let text = element.string else { throw mistyped(key, section: section, expected: "an array of strings") }
            result.append(text)
        }
        return result
    }

    func integer(_ key: String, in table: TOMLTable, section: String, range: ClosedRange<Int>) throws(ProjectFileError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let result = value.int, range.contains(result) else {
            throw mistyped(key, section: section, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return result
    }

    /// A number of seconds: positive, and at most a week (``DurationLimit``; TOML's `inf` and `1e300` do not fit).
    func seconds(_ key: String, in table: TOMLTable, section: String) throws(ProjectFileError) -> Double? {
        guard let value = table[key] else { return nil }
        guard let result = value.double ?? value.int.map(Double.init), DurationLimit.accepts(result) else {
            throw mistyped(key, section: section, expected: "a positive number of seconds, at most \(Int(DurationLimit.longestSeconds)) (a week)")
        }
        return result
    }

    func choice(_ key: String, _ choices: [String], in table: TOMLTable, section: String) throws(ProjectFileError) -> String? {
        guard let value = try string(key, in: table, section: section) else { return nil }
        guard choices.contains(value) else {
            throw ProjectFileError(path: path, message: "[\(section)] \(key) = \"\(value)\": expected one of \(choices.joined(separator: ", "))")
        }
        return value
    }

    private func mistyped(_ key: String, section: String?, expected: String) -> ProjectFileError {
        ProjectFileError(path: path, message: (section.map { "[\($0)] " } ?? "") + "\(key) must be \(expected)")
    }
}

extension TableReader {
    /// `[budgets.tcg]`, `[budgets.kvm]`: per-accelerator limits, each a duration string ("2.5s", "400ms"), and
    /// `[budgets.kvm.libvirt]`, `[budgets.tcg.qemu]`: a backend's own limits on that accelerator. Keyed as
    /// ``BudgetKey`` says.
    func budgets(in table: TOMLTable, section: String) throws(ProjectFileError) -> [String: Budget] {
        guard let budgetsTable = try self.table("budgets", in: table) else { return [:] }
        try requireOnly(BudgetKey.accelerators, in: budgetsTable, section: section)
        var result: [String: Budget] = [:]
        for accelerator in BudgetKey.accelerators {
            guard let value = budgetsTable[accelerator] else { continue }
            let name = "\(section).\(accelerator)"
            guard let limits = value.table else { throw ProjectFileError(path: path, message: "[\(name)] must be a table") }
            try requireOnly(["boot", "shutdown"] + BudgetKey.backends, in: limits, section: name)
            let own = try budget(in: limits, section: name)
            if !own.isEmpty { result[accelerator] = own }
            for backend in BudgetKey.backends {
                guard let value = limits[backend] else { continue }
                let backendName = "\(name).\(backend)"
                guard let backendLimits = value.table else { throw ProjectFileError(path: path, message: "[\(backendName)] must be a table") }
                try requireOnly(["boot", "shutdown"], in: backendLimits, section: backendName)
                result[BudgetKey.key(accelerator: accelerator, backend: backend)] = try budget(in: backendLimits, section: backendName)
            }
        }
        return result
    }

    private func budget(in limits: TOMLTable, section: String) throws(ProjectFileError) -> Budget {
        Budget(boot: try duration("boot", in: limits, section: section), shutdown: try duration("shutdown", in: limits, section: section))
    }

    func duration(_ key: String, in table: TOMLTable, section: String) throws(ProjectFileError) -> Double? {
        guard let text = try string(key, in: table, section: section) else { return nil }
        guard let seconds = DurationText.seconds(text) else {
            throw ProjectFileError(path: path, message: "[\(section)] \(key) = \"\(text)\": expected a duration with a unit, such as \"2.5s\" or \"400ms\"")
        }
        guard seconds <= DurationLimit.longestSeconds else {
            throw ProjectFileError(path: path, message: "[\(section)] \(key) = \"\(text)\": longer than a week, the longest duration ksand accepts")
        }
        return seconds
    }
}
