import Foundation

/// `strerror` text for an errno value, with the number for searching.
func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
