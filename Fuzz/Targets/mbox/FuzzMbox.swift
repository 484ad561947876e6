import FuzzSupport
import KernelSource

/// An mbox holding a patch series (`b4 am`, `git format-patch --stdout`): split into messages, headers unfolded
/// and decoded, subjects split into `[PATCH n/m]` and title, patches ordered and checked.
///
/// Properties: the messages hold, in order, every byte of the input (less one `>` per quoted `From ` line); each
/// patch of a series that reads is numbered 1, 2, ... in order, and its message is one of the input's messages.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMbox(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let messages = Mailbox.messages(in: bytes)
    let kept = messages.reduce(0) { $0 + $1.bytes.count }
    require(kept <= bytes.count, "the messages hold \(kept) bytes of \(bytes.count)")
    for message in messages {
        let subject = PatchSubject(parsing: MailHeaders(parsing: message.bytes)["Subject"] ?? "")
        if let number = subject.number { require(number >= 0 && (subject.total ?? 0) >= 1, "numbered \(number)/\(subject.total ?? -1)") }
        require(subject.title.first != " " && subject.title.last != " ", "title \(subject.title.debugDescription) is not trimmed")
    }
    guard let series = try? PatchSet(mbox: bytes, source: "fuzz/mbox") else { return 0 }
    require(!series.patches.isEmpty, "a series with no patch")
    for (offset, patch) in series.patches.enumerated() {
        require(patch.index == offset + 1, "patch \(offset + 1) has index \(patch.index)")
        require(messages.contains { $0.bytes == patch.message }, "patch \(patch.index)'s message is none of the input's")
    }
    return 0
}
