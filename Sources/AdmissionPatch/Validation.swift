/// Kubernetes resource quantities (`100m`, `64Mi`, `1Gi`, `1.5G`, `2e3`).
enum Quantity {
    static let minimumSpoolBytes = 16 << 20

    private static let binary: [(String, Double)] = [("Ki", 0x1p10), ("Mi", 0x1p20), ("Gi", 0x1p30), ("Ti", 0x1p40), ("Pi", 0x1p50), ("Ei", 0x1p60)]
    private static let decimal: [(String, Double)] = [("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18)]

    /// The number and its multiplier, or `nil` when the text is not a quantity.
    static func parse(_ text: String) -> (number: Double, multiplier: Double)? {
        var body = Substring(text)
        var multiplier = 1.0
        if let (suffix, m) = binary.first(where: { body.hasSuffix($0.0) }) {
            body = body.dropLast(suffix.count)
            multiplier = m
        } else if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }), body[body.index(after: e)...].allSatisfy({ $0.isNumber || $0 == "+" || $0 == "-" }), body.index(after: e) < body.endIndex {
            guard let exponent = Int(body[body.index(after: e)...]) else { return nil }
            multiplier = pow10(exponent)
            body = body[..<e]
        } else if let (suffix, m) = decimal.first(where: { body.hasSuffix($0.0) }) {
            body = body.dropLast(suffix.count)
            multiplier = m
        }
        if body.hasPrefix("+") || body.hasPrefix("-") { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            body.filter({ $0 == "." }).count <= 1, body != ".",
            let number = Double(body)
        else { return nil }
        return (text.hasPrefix("-") ? -number : number, multiplier)
    }

    /// 10^exponent. Past 10^±400 a Double is infinite or zero already, so the loop stops there (an
    /// exponent of a billion digits' worth would otherwise spin for seconds; `Int.min` has no `abs`).
    private static func pow10(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(exponent.magnitude, 400) { value *= 10 }
        return exponent < 0 ? 1 / value : value
    }

    static func isValid(_ text: String) -> Bool { parse(text) != nil }

    /// A non-negative quantity in whole bytes (rounded up, as Kubernetes does).
    static func bytes(_ text: String) -> Int? {
        guard let (number, multiplier) = parse(text), number >= 0 else { return nil }
        let value = (number * multiplier).rounded(.up)
        guard value < 0x1p62 else { return nil }
        return Int(value)
    }

    /// The sidecar's `--spool-max-bytes` for a spool volume of `sizeLimit` bytes: 90 % of it,
    /// in whole MiB when that is at least 1 MiB (the rest is headroom for file-system blocks,
    /// the writer's state file and set-aside segments, so the kubelet never evicts the pod).
    static func spoolCap(forVolumeBytes size: Int) -> String {
        let cap = size / 10 * 9
        if cap >= 1 << 20 { return "\(cap >> 20)MiB" }
        return "\(cap)"
    }
}

enum Validation {
    /// An environment variable name Kubernetes accepts (C identifier style is the safe subset).
    static func isEnvName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !text.isEmpty, text.count <= 253 else { return false }
        guard first == "_" || first == "-" || first == "." || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0 == "." || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// A port name (IANA_SVC_NAME): 1–15 of a-z 0-9 -, at least one letter, no leading,
    /// trailing or double hyphen.
    static func isPortName(_ text: String) -> Bool {
        guard (1...15).contains(text.count), !text.hasPrefix("-"), !text.hasSuffix("-"), !text.contains("--") else { return false }
        guard text.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else { return false }
        return text.unicodeScalars.contains(where: { ("a"..."z").contains($0) })
    }

    /// A DNS-1123 subdomain (object names: ConfigMaps, containers are stricter labels).
    static func isDNSSubdomain(_ text: String) -> Bool {
        guard (1...253).contains(text.count) else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0), max: 63) }
    }

    static func isDNSLabel(_ text: String, max: Int = 63) -> Bool {
        guard (1...max).contains(text.count), !text.hasPrefix("-"), !text.hasSuffix("-") else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// A TCP port number in text (`"8080"`), or `nil`.
    static func portNumber(_ text: String) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text), (1...65535).contains(n) else { return nil }
        return n
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// An HTTP field name (RFC 9110 token).
    static func isHeaderName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256 && text.utf8.allSatisfy { isAlphanumeric($0) || Array("!#$%&'*+-.^_`|~".utf8).contains($0) }
    }

    /// An image reference, loosely: non-empty, no whitespace.
    static func isImage(_ text: String) -> Bool {
        !text.isEmpty && !text.contains(where: { $0.isWhitespace })
    }
}
