import Foundation

/// A libvirt connection URI taken apart as far as ksand needs it: the driver and transport of its scheme
/// (`qemu+unix`), its host, path and query parameters. Pure: nothing is opened.
///
/// It lets an error say which daemon or socket was missing, tells a misspelt scheme from a missing driver, and finds
/// where a local QEMU driver keeps its domains' pid files.
public struct LibvirtURI: Sendable, Equatable, CustomStringConvertible {
    /// The URI as given.
    public var text: String
    /// The driver part of the scheme: `qemu` in `qemu+ssh://host/system`.
    public var driver: String
    /// The transport part of the scheme, if any: `ssh` in `qemu+ssh://host/system`.
    public var transport: String?
    /// The host, nil for a local URI (`qemu:///system`).
    public var host: String?
    /// `/system`, `/session`, `/embed`, …
    public var path: String
    /// The query parameters, percent-decoded as libvirt decodes them (`root`, `socket`, …).
    public var parameters: [String: String]

    /// The drivers libvirt 9 knows by URI scheme. A scheme outside this list is a typo, not a missing package.
    public static let knownDrivers: Set<String> = [
        "qemu", "test", "lxc", "xen", "libxl", "vbox", "vmwareplayer", "vmwarews", "vmwarefusion", "esx", "gsx", "vpx",
        "hyperv", "openvz", "bhyve", "vz", "parallels", "ch", "remote", "network", "nwfilter", "nodedev", "secret",
        "storage", "interface",
    ]

    /// Takes `text` apart; nil when it has no `scheme://` or does not parse as a URI.
    public init?(_ text: String) {
        guard let separator = text.range(of: "://"), separator.lowerBound != text.startIndex,
              let components = URLComponents(string: text), let scheme = components.scheme else { return nil }
        self.text = text
        let parts = scheme.split(separator: "+", maxSplits: 1).map(String.init)
        driver = parts[0].lowercased()
        transport = parts.count > 1 ? parts[1].lowercased() : nil
        host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        path = components.path
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] { parameters[item.name] = item.value ?? "" }
        self.parameters = parameters
    }

    public var description: String { text }

    /// Whether the scheme names a libvirt driver at all.
    public var hasKnownDriver: Bool { Self.knownDrivers.contains(driver) }

    /// Whether the URI reaches a driver on this machine (no host; the default or the `unix` transport).
    public var isLocal: Bool { host == nil && (transport == nil || transport == "unix") }

    /// Whether the URI names the QEMU driver embedded in the calling process (`qemu:///embed?root=DIR`).
    public var isEmbedded: Bool { driver == "qemu" && transport == nil && host == nil && path == "/embed" }

    /// The embedded driver's root directory, for `qemu:///embed?root=DIR`.
    public var embeddedRoot: String? { isEmbedded ? parameters["root"] : nil }

    /// The directory where the local QEMU driver behind this URI writes `<domain name>.pid`, the pid of each running
    /// domain's QEMU; nil for remote URIs and other drivers.
    ///
    /// Seen here: `qemu:///system` (libvirtd as root) writes `/run/libvirt/qemu/NAME.pid`, and
    /// `qemu:///embed?root=DIR` writes `DIR/run/qemu/NAME.pid`. For `qemu:///session` libvirt uses
    /// `$XDG_RUNTIME_DIR/libvirt/qemu/run` (the system directory when root, whose session is the system driver).
    public func qemuPidDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 isRoot: Bool = geteuid() == 0) -> String? {
        guard driver == "qemu", transport == nil || transport == "unix", host == nil else { return nil }
        switch path {
        case "/system":
            return "/run/libvirt/qemu"
        case "/session":
            if isRoot { return "/run/libvirt/qemu" }
            guard let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else { return nil }
            return runtime + "/libvirt/qemu/run"
        case "/embed":
            guard transport == nil, let root = parameters["root"], root.hasPrefix("/") else { return nil }
            return root + "/run/qemu"
        default:
            return nil
        }
    }

    /// The directory where the local QEMU driver behind this URI keeps `<domain name>.log`, QEMU's command line and
    /// stderr: `/var/log/libvirt/qemu` for the system driver, `DIR/log/qemu` for the embedded one,
    /// `~/.cache/libvirt/qemu/log` for an unprivileged session. Nil for remote URIs and other drivers.
    public func qemuLogDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 isRoot: Bool = geteuid() == 0) -> String? {
        guard driver == "qemu", transport == nil || transport == "unix", host == nil else { return nil }
        switch path {
        case "/system":
            return "/var/log/libvirt/qemu"
        case "/session":
            if isRoot { return "/var/log/libvirt/qemu" }
            guard let home = environment["HOME"], !home.isEmpty else { return nil }
            return (environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache") + "/libvirt/qemu/log"
        case "/embed":
            guard transport == nil, let root = parameters["root"], root.hasPrefix("/") else { return nil }
            return root + "/log/qemu"
        default:
            return nil
        }
    }

    /// The URI of the embedded QEMU driver rooted at `root` (an absolute path), percent-encoding what libvirt's URI
    /// parser would otherwise take for syntax.
    public static func embedded(root: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~/")
        let encoded = root.addingPercentEncoding(withAllowedCharacters: allowed) ?? root
        return "qemu:///embed?root=" + encoded
    }
}
