/// The module dependency graph from `modules.dep`, and which modules are built in from `modules.builtin`.
/// Pure: fed the files' text.
public struct ModuleDependencies: Sendable {
    /// Normalised module name → path relative to the modules directory.
    private var pathByName: [String: String] = [:]
    /// Path → the paths it depends on.
    private var dependencies: [String: [String]] = [:]
    private var builtIn: Set<String> = []

    public init(modulesDep: String, modulesBuiltin: String) throws(InitramfsError) {
        for (index, line) in modulesDep.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw .malformedModulesDep(line: index + 1, text: String(trimmed))
            }
            let path = String(trimmed[..<colon])
            let deps = trimmed[trimmed.index(after: colon)...].split(separator: " ").map(String.init)
            dependencies[path] = deps
            pathByName[ModuleDependencies.name(ofPath: path)] = path
        }
        for line in modulesBuiltin.split(separator: "\n") where !line.isEmpty {
            builtIn.insert(ModuleDependencies.name(ofPath: String(line)))
        }
    }

    /// `kernel/fs/9p/9p.ko.xz` → `9p`; `-` and `_` are the same in module names, so both become `_`.
    public static func name(ofPath path: String) -> String {
        var base = Substring(path.split(separator: "/").last ?? Substring(path))
        for suffix in [".xz", ".zst", ".gz"] where base.hasSuffix(suffix) { base = base.dropLast(suffix.count) }
        if base.hasSuffix(".ko") { base = base.dropLast(3) }
        return normalise(String(base))
    }

    static func normalise(_ name: String) -> String { name.replacingDashes() }

    /// The closure of `names` in load order (each module after its dependencies), as paths relative to the
    /// modules directory (`kernel/net/9p/9pnet.ko`); built-in modules are skipped and listed in `builtIn`.
    /// A name matches with `-` and `_` the same, and may carry a `.ko[.gz|.xz|.zst]` suffix.
    /// `modulesDirectory` only goes into the error for an unknown name.
    public func closure(of names: [String], modulesDirectory: String = "the modules directory") throws(InitramfsError) -> (load: [String], builtIn: [String]) {
        var order: [String] = []
        var seen: Set<String> = []
        var skipped: [String] = []
        func visit(_ path: String) {
            guard seen.insert(path).inserted else { return }
            for dependency in dependencies[path] ?? [] { visit(dependency) }
            order.append(path)
        }
        for name in names {
            let key = ModuleDependencies.name(ofPath: name)
            if let path = pathByName[key] {
                visit(path)
            } else if builtIn.contains(key) {
                skipped.append(name)
            } else {
                throw .unknownModule(name: name, modulesDirectory: modulesDirectory)
            }
        }
        return (order, skipped)
    }
}

extension StringProtocol {
    func trimmingSpaces() -> SubSequence {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice = slice.dropLast() }
        return slice
    }
}

extension String {
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
