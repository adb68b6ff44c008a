/// A TLS certificate, key or CA could not be read or made; the message says which and why.
public struct TLSMaterialError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
