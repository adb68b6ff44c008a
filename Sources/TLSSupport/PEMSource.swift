import NIOSSL

/// PEM given either inline (the value starts with `-----BEGIN`) or as the path of a PEM file,
/// as options such as `--collector-ca` accept it.
public enum PEMSource: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case inline(String)

    /// Inline when `value` (leading white space ignored) starts with `-----BEGIN`, else a file path.
    public init(_ value: String) {
        if value.drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }).hasPrefix("-----BEGIN") {
            self = .inline(value)
        } else {
            self = .file(value)
        }
    }

    /// The PEM text.
    public func bytes() throws(TLSMaterialError) -> [UInt8] {
        switch self {
        case .file(let path): try PEMFiles.readFile(path)
        case .inline(let text): Array(text.utf8)
        }
    }

    /// Every certificate in the PEM; `option` names the setting in error messages
    /// (`--collector-ca: no certificate in /etc/ca.pem`).
    public func certificates(option: String) throws(TLSMaterialError) -> [NIOSSLCertificate] {
        let pem: [UInt8]
        do { pem = try bytes() } catch { throw TLSMaterialError("\(option): \(error.message)") }
        guard pem.containsPEMLabel("CERTIFICATE") else {
            throw TLSMaterialError("\(option): no certificate in \(self)")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw TLSMaterialError("\(option): cannot parse the certificates in \(self): \(error)")
        }
        guard !certificates.isEmpty else { throw TLSMaterialError("\(option): no certificate in \(self)") }
        return certificates
    }

    /// The private key in the PEM; `option` names the setting in error messages.
    public func privateKey(option: String) throws(TLSMaterialError) -> NIOSSLPrivateKey {
        let pem: [UInt8]
        do { pem = try bytes() } catch { throw TLSMaterialError("\(option): \(error.message)") }
        guard pem.containsPEMLabel("PRIVATE KEY") else {
            throw TLSMaterialError("\(option): no private key in \(self)")
        }
        do {
            return try NIOSSLPrivateKey(bytes: pem, format: .pem)
        } catch {
            throw TLSMaterialError("\(option): cannot parse the private key in \(self): \(error)")
        }
    }

    /// The file's path, or `inline PEM`.
    public var description: String {
        switch self {
        case .file(let path): path
        case .inline: "the inline PEM"
        }
    }
}

extension [UInt8] {
    /// Whether a `-----BEGIN … <label>-----` line is present (`PRIVATE KEY` also matches `EC PRIVATE KEY`).
    fileprivate func containsPEMLabel(_ label: String) -> Bool {
        let text = String(decoding: self, as: UTF8.self)
        var rest = Substring(text)
        while let range = rest.firstRange(of: "-----BEGIN ") {
            let after = rest[range.upperBound...]
            guard let end = after.firstRange(of: "-----") else { return false }
            if after[..<end.lowerBound].hasSuffix(label) { return true }
            rest = after[end.upperBound...]
        }
        return false
    }
}
