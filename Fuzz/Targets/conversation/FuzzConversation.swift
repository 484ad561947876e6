import FuzzSupport
import SandboxProtocol

/// The host's side of the command channel as a state machine, fed by a hostile guest: bytes in arbitrary pieces.
///
/// Properties: the pieces do not change what the conversation makes of the stream (the same events, the same
/// error); after an error the conversation is broken and stays so; no event follows an exit status or a failure
/// message; an exit status is one a process can end with; the hello comes first and once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConversation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let whole = converse(bytes, pieceSize: max(1, bytes.count))
    let pieceSize = Int(bytes.first ?? 0) % 23 + 1
    let pieces = converse(bytes, pieceSize: pieceSize)
    // Events of a piece that carried the error are dropped with it, so only the error and the final stage must agree.
    require(whole.error == pieces.error, "pieces of \(pieceSize) bytes end in \(String(describing: pieces.error)), one piece in \(String(describing: whole.error))")
    require(whole.stage == pieces.stage, "pieces of \(pieceSize) bytes end at \(pieces.stage), one piece at \(whole.stage)")
    if whole.error == nil { require(whole.events == pieces.events, "pieces of \(pieceSize) bytes give other events") }
    for result in [whole, pieces] {
        check(result.events)
        if result.error != nil { require(result.stage == .broken, "an error left the conversation at \(result.stage)") }
    }
    return 0
}

struct Conversed {
    var events: [GuestConversation.Event] = []
    var error: FrameError?
    var stage: GuestConversation.Stage = .awaitingHello
}

func converse(_ bytes: [UInt8], pieceSize: Int) -> Conversed {
    var conversation = GuestConversation()
    var result = Conversed()
    do {
        for piece in pieces(of: bytes, size: pieceSize) { result.events += try conversation.receive(piece) }
        try conversation.closed()
    } catch {
        result.error = error
    }
    result.stage = conversation.stage
    return result
}

func check(_ events: [GuestConversation.Event]) {
    var sawHello = false, ended = false
    for event in events {
        require(!ended, "an event after the end: \(event)")
        switch event {
        case .hello:
            require(!sawHello, "a second hello")
            sawHello = true
        case .stdout, .stderr:
            require(sawHello, "output before the hello")
        case .exit(let exit):
            require(sawHello, "an exit before the hello")
            switch exit {
            case .exited(let code): require((0...255).contains(code), "exit status \(code)")
            case .signaled(let signal): require((1...64).contains(signal), "signal \(signal)")
            }
            require((0...255).contains(exit.shellStatus), "shell status \(exit.shellStatus)")
            ended = true
        case .failure:
            ended = true
        }
    }
}
