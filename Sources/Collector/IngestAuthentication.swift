import CollectorCore
import Crypto

/// How an ingest token fared.
public enum IngestAuthentication: Sendable, Equatable {
    case accepted(IngestIdentity)
    /// Not a token this collector accepts (401).
    case rejected(String)
    /// The token could not be checked right now (503: the shipper retries).
    case unavailable(String)
}

/// Checks the bearer tokens sidecars upload with.
public protocol IngestAuthenticator: Sendable {
    func authenticate(token: String) async -> IngestAuthentication
}

/// The shared static token of `dev` mode and tests.
public struct StaticIngestAuthenticator: IngestAuthenticator {
    let digest: [UInt8]

    public init(token: String) {
        digest = Array(SHA256.hash(data: Array(token.utf8)))
    }

    public func authenticate(token: String) async -> IngestAuthentication {
        // Compare digests, so the comparison's time does not depend on where the strings differ.
        let candidate = Array(SHA256.hash(data: Array(token.utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, digest) { difference |= a ^ b }
        return difference == 0 ? .accepted(.staticToken) : .rejected("the token is not the collector's ingest token")
    }
}

/// Tries authenticators in order; the first that accepts wins.
public struct IngestAuthenticatorChain: IngestAuthenticator {
    let authenticators: [any IngestAuthenticator]

    public init(_ authenticators: [any IngestAuthenticator]) {
        self.authenticators = authenticators
    }

    public func authenticate(token: String) async -> IngestAuthentication {
        var last = IngestAuthentication.rejected("no ingest authentication is configured")
        for authenticator in authenticators {
            let result = await authenticator.authenticate(token: token)
            if case .accepted = result { return result }
            if case .unavailable = result { last = result } else if case .unavailable = last {} else { last = result }
        }
        return last
    }
}
