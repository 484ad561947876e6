import Foundation

/// `strerror` text for an errno value, with the number for searching.
public func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
