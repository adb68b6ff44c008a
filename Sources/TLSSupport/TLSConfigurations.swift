import NIOSSL

/// NIOSSL configurations for the collector (server) and the shipper (client).
public enum TLSConfigurations {
    /// A TLS 1.2+ server configuration from a certificate chain and its key, each a PEM file or inline PEM.
    public static func server(certificateChain: PEMSource, privateKey: PEMSource) throws(TLSMaterialError) -> TLSConfiguration {
        let chain = try certificateChain.certificates(option: "TLS certificate")
        let key = try privateKey.privateKey(option: "TLS key")
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// A server configuration from the PEM files `tls.crt` and `tls.key` (paths).
    public static func server(certificateChainFile: String, privateKeyFile: String) throws(TLSMaterialError) -> TLSConfiguration {
        try server(certificateChain: .file(certificateChainFile), privateKey: .file(privateKeyFile))
    }

    /// A server configuration for a ``SelfSignedAuthority``'s server certificate.
    public static func server(_ authority: SelfSignedAuthority) throws(TLSMaterialError) -> TLSConfiguration {
        try server(certificateChain: .inline(authority.certificatePEM), privateKey: .inline(authority.privateKeyPEM))
    }

    /// A TLS 1.2+ client configuration with full verification (chain and host name) that trusts
    /// exactly `certificateAuthorities`, or the system's roots when `nil`.
    public static func client(trusting certificateAuthorities: [NIOSSLCertificate]?) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let certificateAuthorities {
            configuration.trustRoots = .certificates(certificateAuthorities)
        }
        return configuration
    }
}
