import Crypto

/// The id of a held call: the first 32 hex digits of SHA-256(instance/conn/exchange),
/// unique to the sidecar process, the connection and the exchange.
public enum ApprovalID {
    public static func make(instance: String, conn: String, exchange: UInt64) -> String {
        let digest = SHA256.hash(data: Array("\(instance)/\(conn)/\(exchange)".utf8))
        return Hex.lowercase(Array(digest), limit: 16)
    }
}
