import Foundation

/// Writes a line to stderr, prefixed with `ksand: `.
func report(_ message: String) {
    FileHandle.standardError.write(Data(("ksand: " + message + "\n").utf8))
}
