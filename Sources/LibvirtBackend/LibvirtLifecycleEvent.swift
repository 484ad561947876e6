/// A domain lifecycle event (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`): what happened to which domain, and libvirt's detail.
public struct LibvirtLifecycleEvent: Sendable, Equatable, CustomStringConvertible {
    /// `virDomainEventType`.
    public enum Kind: Sendable, Equatable {
        case defined, undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed
        case unknown(Int32)

        init(_ raw: Int32) {
            let kinds: [Kind] = [.defined, .undefined, .started, .suspended, .resumed, .stopped, .shutdown, .pmSuspended, .crashed]
            self = kinds.indices.contains(Int(raw)) ? kinds[Int(raw)] : .unknown(raw)
        }
    }

    /// Why a domain stopped (`virDomainEventStoppedDetailType`), for `.stopped` events.
    public enum StopReason: Int32, Sendable {
        /// The guest powered off (or, with `on_reboot`/`on_poweroff` = destroy, reset or halted).
        case shutdown = 0
        /// The host destroyed it (`virDomainDestroy`, or autodestroy).
        case destroyed
        /// The guest crashed.
        case crashed
        case migrated
        case saved
        /// QEMU itself failed, or exited without libvirt asking (killed by a signal, for one).
        case failed
        case fromSnapshot
    }

    /// What happened.
    public var kind: Kind
    /// libvirt's detail number, whose meaning depends on the kind (`virDomainEvent*DetailType`).
    public var detail: Int32
    /// The domain it happened to.
    public var domainName: String
    /// That domain's UUID.
    public var domainUUID: String

    /// An event with the given parts.
    public init(kind: Kind, detail: Int32, domainName: String, domainUUID: String) {
        self.kind = kind
        self.detail = detail
        self.domainName = domainName
        self.domainUUID = domainUUID
    }

    /// Why the domain stopped, for a `.stopped` event.
    public var stopReason: StopReason? { kind == .stopped ? StopReason(rawValue: detail) : nil }

    /// Whether the domain no longer runs after this event: it stopped, or was undefined. A transient domain no longer
    /// exists then either.
    public var endsRun: Bool { kind == .stopped || kind == .undefined }

    public var description: String {
        let detailText = stopReason.map { "\($0)" } ?? "detail \(detail)"
        return "domain '\(domainName)' \(kind) (\(detailText))"
    }
}
