/// Text as one word for /bin/sh: single quotes, and each `'` inside as `'\''`. Used where ksand hands a shell a
/// path (QEMU's `exec:` migration commands) or prints a command to paste (validate's reproducers).
public enum ShellWord {
    /// Always quoted.
    public static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Quoted unless every character is one the shell takes as it is (letters, digits, `-_./=:,+@`).
    public static func quotedIfNeeded(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@".contains($0) }
        return plain ? text : quoted(text)
    }
}
