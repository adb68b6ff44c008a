/// What browsers send the web UI: `application/x-www-form-urlencoded` bodies and `Cookie`
/// headers. Pure; attacker-controlled input, so nothing here trusts its shape.
public enum WebForm {
    /// The fields of a form body or query string, in order. `+` is a space; a bad `%` escape
    /// is kept as it is; pairs without `=` have an empty value.
    public static func fields(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The first value of `name` in a form body.
    public static func value(_ name: String, in text: String) -> String? {
        fields(text).first { $0.name == name }?.value
    }

    static func decode(_ part: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(part.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, let high = hexValue(utf8[utf8.startIndex]), let low = hexValue(utf8[utf8.startIndex + 1]) {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The value of cookie `name` in a `Cookie` header (`a=1; b=2`), if present.
    public static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            if kv[0].drop(while: { $0 == " " }) == name[...] { return String(kv[1].filter { $0 != "\"" && $0 != " " }) }
        }
        return nil
    }

    /// A `Set-Cookie` value for the UI's cookies: host-only, HTTPS only, out of JavaScript's reach.
    /// `maxAge` 0 deletes the cookie; `sameSite` is `Strict` except for the sign-in state, which
    /// must come back on the identity provider's cross-site redirect (`Lax`).
    public static func setCookie(_ name: String, _ value: String, maxAge: Int, sameSite: String = "Strict") -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); Secure; HttpOnly; SameSite=\(sameSite)"
    }
}
