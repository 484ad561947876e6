import Foundation
import FuzzSupport
import KsandFoundation
import QEMU

/// What comes back on QEMU's QMP socket: bytes in arbitrary pieces, split into lines, each parsed as a message.
///
/// Properties: reading in pieces gives the lines reading in one piece gives; the buffer never holds more than one
/// overlong line; a reply's value writes back as JSON that reads back as the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQMP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let whole = lines(of: bytes, pieceSize: max(1, bytes.count))
    let pieceSize = Int(bytes.last ?? 0) % 31 + 1
    require(lines(of: bytes, pieceSize: pieceSize) == whole, "pieces of \(pieceSize) bytes split into other lines")
    for line in whole {
        switch QMPMessage(line: line) {
        case .success(let value)?:
            let written = try? JSONDocument.compact(value)
            require(written.flatMap { JSONDocument.decode(JSONValue.self, from: $0) } == value, "\(value) does not read back as itself")
        case .event(let name)?: _ = name
        case .failure(let description)?: _ = description
        case .unexpected(let text)?: _ = text
        case .greeting?, nil: break
        }
    }
    return 0
}

/// The lines a client reading `pieceSize` bytes at a time gets.
func lines(of bytes: [UInt8], pieceSize: Int) -> [[UInt8]] {
    var buffer = QMPLineBuffer()
    var lines: [[UInt8]] = []
    for piece in pieces(of: bytes, size: pieceSize) {
        buffer.append(piece)
        while let line = buffer.nextLine() { lines.append(line) }
        require(!buffer.isOverlong || bytes.count > QMPLineBuffer.maxLineLength, "an overlong line from \(bytes.count) bytes")
    }
    return lines
}
