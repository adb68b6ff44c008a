import Crypto
import SwiftASN1
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A throw-away certificate authority and a server certificate it signed (P-256, ECDSA-SHA256),
/// for `collector --tls-self-signed`, `dev` and tests. Everything is PEM text.
public struct SelfSignedAuthority: Sendable {
    /// The CA certificate: what clients trust (`--collector-ca`).
    public var caPEM: String
    /// The server certificate, followed by the CA certificate when generated with `includeChain`.
    public var certificatePEM: String
    /// The server certificate's private key (PKCS#8).
    public var privateKeyPEM: String

    public init(caPEM: String, certificatePEM: String, privateKeyPEM: String) {
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// Makes a new CA and a server certificate for `hostnames` (DNS SANs) and `ipAddresses`
    /// (IP SANs, IPv4 or IPv6 text), valid from an hour ago for `validity`.
    public static func generate(
        hostnames: [String] = ["localhost"],
        ipAddresses: [String] = ["127.0.0.1", "::1"],
        validity: Duration = .seconds(365 * 86_400),
        commonName: String = "mcp-recorder",
        includeChain: Bool = false
    ) throws(TLSMaterialError) -> SelfSignedAuthority {
        var names: [GeneralName] = hostnames.map { .dnsName($0) }
        for text in ipAddresses {
            guard let bytes = ipAddressBytes(text) else { throw TLSMaterialError("not an IP address: \(text)") }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        guard !names.isEmpty else { throw TLSMaterialError("a server certificate needs at least one host name or IP address") }
        let now = Date()
        let notBefore = now - 3600
        let notAfter = now + Double(validity.components.seconds)
        do {
            let caKey = P256.Signing.PrivateKey()
            let caPublicKey = Certificate.PublicKey(caKey.publicKey)
            let caName = try DistinguishedName {
                OrganizationName("mcp-recorder")
                CommonName("\(commonName) CA")
            }
            let caKeyIdentifier = SubjectKeyIdentifier(hash: caPublicKey)
            let ca = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: caPublicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: caName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    caKeyIdentifier
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))

            let serverKey = P256.Signing.PrivateKey()
            let serverPublicKey = Certificate.PublicKey(serverKey.publicKey)
            let serverName = try DistinguishedName {
                OrganizationName("mcp-recorder")
                CommonName(hostnames.first ?? ipAddresses.first ?? commonName)
            }
            let server = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: serverPublicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: serverName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: serverPublicKey)
                    AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier.keyIdentifier)
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))

            let caPEM = try ca.serializeAsPEM().pemString + "\n"
            let serverPEM = try server.serializeAsPEM().pemString + "\n"
            return SelfSignedAuthority(
                caPEM: caPEM,
                certificatePEM: includeChain ? serverPEM + caPEM : serverPEM,
                privateKeyPEM: serverKey.pemRepresentation + "\n")
        } catch {
            throw TLSMaterialError("cannot make a self-signed certificate: \(error)")
        }
    }

    /// Paths written by ``writeFiles(directory:)``.
    public struct Files: Sendable, Equatable {
        public var ca: String
        public var certificate: String
        public var privateKey: String
    }

    /// Writes `ca.pem`, `tls.crt` and `tls.key` (mode 0600) into `directory`, creating it if needed.
    @discardableResult
    public func writeFiles(directory: String) throws(TLSMaterialError) -> Files {
        try PEMFiles.createDirectory(directory)
        let files = Files(
            ca: PEMFiles.join(directory, "ca.pem"),
            certificate: PEMFiles.join(directory, "tls.crt"),
            privateKey: PEMFiles.join(directory, "tls.key"))
        try PEMFiles.writeFile(caPEM, to: files.ca, mode: 0o644)
        try PEMFiles.writeFile(certificatePEM, to: files.certificate, mode: 0o644)
        try PEMFiles.writeFile(privateKeyPEM, to: files.privateKey, mode: 0o600)
        return files
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address in text form.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
