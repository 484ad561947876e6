import Glibc

/// A setup step that failed: what was attempted, on which path, and the errno when a syscall said why.
struct InitFailure: Error, CustomStringConvertible {
    var what: String
    var code: Int32?

    init(_ what: String, errno code: Int32? = nil) {
        self.what = what
        self.code = code
    }

    /// The failure with the current `errno`.
    static func system(_ what: String) -> InitFailure {
        InitFailure(what, errno: errno)
    }

    var description: String {
        guard let code else { return what }
        return what + ": " + errorText(code)
    }
}

/// The C library's text for an errno value.
func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
