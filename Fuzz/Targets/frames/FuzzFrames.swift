import FuzzSupport
import SandboxProtocol

/// The command channel as the host reads it from a hostile guest: frames arriving in arbitrary pieces, and the
/// payloads the host decodes (hello, exit status), plus the run spec the guest init decodes.
///
/// Properties: decoding in pieces gives the frames (and the error) decoding in one piece gives; the frames
/// re-encode to the bytes they came from; every payload that decodes survives an encode/decode round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    // The payload decoders on the raw input too, so the fuzzer need not find a valid frame header first.
    decodePayload(of: .hello, bytes)
    decodePayload(of: .exit, bytes)
    decodePayload(of: .spec, bytes)

    let whole = decode(bytes, pieceSize: max(1, bytes.count))
    let pieceSize = Int(bytes.first ?? 0) % 17 + 1
    let pieces = decode(bytes, pieceSize: pieceSize)
    require(whole.frames == pieces.frames && whole.error == pieces.error,
            "pieces of \(pieceSize) bytes decode to \(pieces), one piece to \(whole)")
    let reencoded = whole.frames.flatMap { $0.encoded() }
    require(Array(bytes.prefix(reencoded.count)) == reencoded, "the frames do not re-encode to the bytes they came from")
    if whole.error == nil {
        require(reencoded.count + whole.pending == bytes.count, "\(whole.pending) bytes pending of \(bytes.count - reencoded.count) left")
    }
    for frame in whole.frames { decodePayload(of: frame.kind, frame.payload) }
    return 0
}

/// What a decoder made of a stream: the frames, the error that stopped it, and the bytes still waiting.
struct Decoded: Equatable, CustomStringConvertible {
    var frames: [Frame] = []
    var error: FrameError?
    var pending = 0

    var description: String { "\(frames.count) frames, error \(error.map { "\($0)" } ?? "none"), \(pending) pending" }
}

/// Feeds `bytes` to a decoder `pieceSize` at a time, taking every frame as soon as it is complete, as the relay does.
func decode(_ bytes: [UInt8], pieceSize: Int) -> Decoded {
    var decoder = FrameDecoder()
    var result = Decoded()
    for piece in pieces(of: bytes, size: pieceSize) {
        decoder.append(piece)
        do {
            while let frame = try decoder.next() { result.frames.append(frame) }
        } catch {
            result.error = error
            break
        }
    }
    result.pending = decoder.pendingByteCount
    return result
}

/// Decodes a payload the way its receiver does and checks that what decodes round-trips.
func decodePayload(of kind: Frame.Kind, _ payload: [UInt8]) {
    switch kind {
    case .hello:
        guard let hello = try? Hello(decoding: payload) else { return }
        require((try? Hello(decoding: hello.encoded())) == hello, "hello \(hello) does not round-trip")
    case .exit:
        guard let exit = try? CommandExit(decoding: payload) else { return }
        require(exit.encoded() == payload, "exit status \(exit) does not re-encode to its payload")
        _ = exit.shellStatus
    case .spec:
        guard let spec = try? RunSpec(decoding: payload) else { return }
        require((try? RunSpec(decoding: spec.encoded())) == spec, "run spec \(spec) does not round-trip")
    case .failure, .stdout, .stderr, .stdin, .terminate:
        _ = String(decoding: payload, as: UTF8.self)
    }
}
