import CLibvirt
import Foundation
import Synchronization

/// An open, read-write libvirt connection (`virConnectPtr`).
///
/// The connection is closed (`virConnectClose`) exactly once, when the last reference to it goes: there is no
/// `close()` to call twice or to call while a domain, console or subscription still uses it. Each
/// ``LibvirtDomain``, ``LibvirtConsoleStream`` and ``LibvirtLifecycleSubscription`` holds its connection, as libvirt's
/// own objects hold theirs, so a connection outlives everything made from it. Closing it destroys the domains it
/// started with `autodestroy`, and closing the last connection to `qemu:///embed?root=DIR` shuts that embedded driver
/// down.
///
/// libvirt connections are thread-safe (every public libvirt API may be called on a shared connection from any
/// thread), so this class is `Sendable` and may be used from any task.
public final class LibvirtConnection: @unchecked Sendable {
    // Immutable after init; libvirt serializes use of the handle itself.
    let pointer: OpaquePointer
    /// Domains started with `autodestroy` on a driver that cannot do it itself (the embedded one): a reference of
    /// this connection's own to each, destroyed and released as it closes.
    private let destroyOnClose = Mutex<[DomainReference]>([])
    /// The URI this connection was opened with.
    public let uri: String
    /// The URI taken apart, nil if libvirt accepted something ``LibvirtURI`` cannot parse.
    public let parsedURI: LibvirtURI?

    /// Opens `uri` read-write (`virConnectOpen`), starting ``LibvirtEventLoop`` first if needed.
    public init(uri: String) throws(LibvirtError) {
        try LibvirtEventLoop.start()
        guard let pointer = virConnectOpen(uri) else {
            throw LibvirtError.last("open a connection", uri: uri, context: .connecting)
        }
        self.pointer = pointer
        self.uri = uri
        self.parsedURI = LibvirtURI(uri)
    }

    deinit {
        for domain in destroyOnClose.withLock({ $0 }) {
            if virDomainIsActive(domain.pointer) == 1 { virDomainDestroy(domain.pointer) }
            virDomainFree(domain.pointer)
        }
        virConnectClose(pointer)
    }

    /// A `virDomainPtr` reference this connection holds.
    private struct DomainReference: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Starts a transient domain from its XML (`virDomainCreateXML`): it exists while it runs and vanishes when it
    /// stops. With `paused`, its vCPUs wait for ``LibvirtDomain/resume()``: open the console first to see every byte
    /// the guest writes.
    ///
    /// With `autodestroy`, the domain is destroyed when this connection closes. Through a daemon libvirt does that
    /// (`VIR_DOMAIN_START_AUTODESTROY`), even if this process dies. The embedded driver of libvirt 9 refuses the flag
    /// ("Domain autodestroy not supported for embedded drivers yet"), so for `qemu:///embed` this connection
    /// destroys the domain itself as it closes; a process that dies leaves it to the domain's own `on_poweroff`,
    /// `on_reboot` and `on_crash`.
    public func createTransientDomain(xml: String, autodestroy: Bool, paused: Bool = false) throws(LibvirtError) -> LibvirtDomain {
        let destroysItself = autodestroy && parsedURI?.isEmbedded == true
        var flags: UInt32 = 0
        if autodestroy && !destroysItself { flags |= VIR_DOMAIN_START_AUTODESTROY.rawValue }
        if paused { flags |= VIR_DOMAIN_START_PAUSED.rawValue }
        let name = Self.domainName(inXML: xml)
        guard let domain = virDomainCreateXML(pointer, xml, flags) else {
            let log = name.flatMap { name in parsedURI?.qemuLogDirectory().map { "\($0)/\(name).log" } }
            throw LibvirtError.last("start domain '\(name ?? "?")'", uri: uri, context: .startingDomain(log: log))
        }
        if destroysItself, virDomainRef(domain) == 0 {
            destroyOnClose.withLock { domains in
                // Forget the ones that have already stopped, so that a long-lived connection does not collect them.
                domains.removeAll { domain in
                    guard virDomainIsActive(domain.pointer) != 1 else { return false }
                    virDomainFree(domain.pointer)
                    return true
                }
                domains.append(DomainReference(pointer: domain))
            }
        }
        return LibvirtDomain(owning: domain, connection: self)
    }

    /// The domain with this UUID (`virDomainLookupByUUIDString`), nil when there is none.
    public func lookupDomain(uuid: String) throws(LibvirtError) -> LibvirtDomain? {
        try lookup("look up domain \(uuid)") { virDomainLookupByUUIDString(pointer, uuid) }
    }

    /// The domain with this name (`virDomainLookupByName`), nil when there is none.
    public func lookupDomain(name: String) throws(LibvirtError) -> LibvirtDomain? {
        try lookup("look up domain '\(name)'") { virDomainLookupByName(pointer, name) }
    }

    private func lookup(_ operation: String, _ call: () -> OpaquePointer?) throws(LibvirtError) -> LibvirtDomain? {
        if let domain = call() { return LibvirtDomain(owning: domain, connection: self) }
        let error = LibvirtError.last(operation, uri: uri)
        if error.kind == .noDomain { return nil }
        throw error
    }

    /// The domains of this connection (`virConnectListAllDomains`): the running ones, or all with `includeInactive`.
    public func domains(includeInactive: Bool = false) throws(LibvirtError) -> [LibvirtDomain] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let flags = includeInactive ? 0 : VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue
        let count = virConnectListAllDomains(pointer, &list, flags)
        guard count >= 0 else { throw LibvirtError.last("list domains", uri: uri) }
        guard let list else { return [] }
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            list[index].map { LibvirtDomain(owning: $0, connection: self) }
        }
    }

    /// The names of the running domains.
    public func runningDomainNames() throws(LibvirtError) -> [String] {
        try domains().map(\.name)
    }

    /// The URI libvirt says this connection reaches (`virConnectGetURI`): the canonical form of ``uri``.
    public func canonicalURI() throws(LibvirtError) -> String {
        guard let text = virConnectGetURI(pointer) else { throw LibvirtError.last("read the connection's URI", uri: uri) }
        defer { free(text) }
        return String(cString: text)
    }

    /// The text of the first `<name>` element of a domain XML, for messages about a domain that failed to start.
    static func domainName(inXML xml: String) -> String? {
        guard let open = xml.range(of: "<name>"), let close = xml.range(of: "</name>", range: open.upperBound..<xml.endIndex) else {
            return nil
        }
        let name = xml[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }
}
