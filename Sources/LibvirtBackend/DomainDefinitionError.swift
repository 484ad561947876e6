/// A ``DomainDefinition`` value that libvirt could not take, or that no sandbox should have. Each says which value,
/// what it holds (quoted, with control characters escaped) and the rule it breaks.
public enum DomainDefinitionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A domain name that breaks ``DomainDefinition/nameRule``.
    case invalidName(String)
    /// A vCPU count or memory size below 1.
    case invalidSize(field: String, value: Int)
    /// A path that is not absolute, or holds what libvirt's schema or XML cannot carry.
    case invalidPath(field: String, path: String, rule: String)
    /// A tag, port name or other text that is empty or holds what XML cannot carry.
    case invalidText(field: String, text: String, rule: String)
    /// Two filesystems with one mount tag: the guest could mount only one of them.
    case duplicateTag(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "\(String(reflecting: name)) is not a domain name: \(DomainDefinition.nameRule)"
        case .invalidSize(let field, let value):
            return "the domain's \(field) is \(value): it must be at least 1"
        case .invalidPath(let field, let path, let rule):
            return "the domain's \(field) \(String(reflecting: path)) cannot be used: \(rule)"
        case .invalidText(let field, let text, let rule):
            return "the domain's \(field) \(String(reflecting: text)) cannot be used: \(rule)"
        case .duplicateTag(let tag):
            return "two filesystems share the mount tag \(String(reflecting: tag)): give each share a tag of its own"
        }
    }
}
