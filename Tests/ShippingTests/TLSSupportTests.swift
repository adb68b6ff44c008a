import Foundation
import NIOSSL
import Testing
import TLSSupport

@Suite struct TLSSupportTests {
    @Test func pemSourceTellsInlinePEMFromAPath() {
        #expect(PEMSource("/etc/mcp-recorder/ca.pem") == .file("/etc/mcp-recorder/ca.pem"))
        #expect(PEMSource("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n") == .inline("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
        #expect(PEMSource("\n  -----BEGIN CERTIFICATE-----") == .inline("\n  -----BEGIN CERTIFICATE-----"))
    }

    @Test func generatedAuthorityLoadsInlineAndFromFiles() throws {
        let authority = try SelfSignedAuthority.generate(hostnames: ["localhost", "collector.test"], ipAddresses: ["127.0.0.1", "::1"])
        let ca = try PEMSource(authority.caPEM).certificates(option: "--collector-ca")
        #expect(ca.count == 1)
        let directory = temporaryDirectory()
        let files = try authority.writeFiles(directory: directory + "/tls")
        #expect(try PEMSource(files.ca).certificates(option: "--collector-ca") == ca)
        let leaf = try PEMSource(files.certificate).certificates(option: "--tls-cert")
        #expect(leaf.count == 1)
        _ = try PEMSource(files.privateKey).privateKey(option: "--tls-key")
        let mode = try FileManager.default.attributesOfItem(atPath: files.privateKey)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let sans = Array(try #require(leaf.first)._subjectAlternativeNames())
        #expect(sans.count == 4)
        _ = try TLSConfigurations.server(authority)
        _ = try TLSConfigurations.server(certificateChainFile: files.certificate, privateKeyFile: files.privateKey)
        let chained = try SelfSignedAuthority.generate(includeChain: true)
        #expect(try PEMSource(chained.certificatePEM).certificates(option: "x").count == 2)
    }

    @Test func clearErrorsForMissingOrWrongPEM() throws {
        #expect { try PEMSource("/nonexistent/ca.pem").certificates(option: "--collector-ca") } throws: {
            "\($0)".hasPrefix("--collector-ca: cannot open /nonexistent/ca.pem")
        }
        let authority = try SelfSignedAuthority.generate()
        #expect { try PEMSource(authority.privateKeyPEM).certificates(option: "--collector-ca") } throws: {
            "\($0)" == "--collector-ca: no certificate in the inline PEM"
        }
        let directory = temporaryDirectory()
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: directory + "/empty.pem"))
        #expect { try PEMSource(directory + "/empty.pem").certificates(option: "--collector-ca") } throws: {
            "\($0)" == "--collector-ca: no certificate in \(directory)/empty.pem"
        }
        #expect { try PEMSource(authority.caPEM).privateKey(option: "--tls-key") } throws: {
            "\($0)".contains("no private key")
        }
        #expect(throws: TLSMaterialError.self) { try SelfSignedAuthority.generate(ipAddresses: ["not-an-ip"]) }
    }

    @Test func clientConfigurationVerifiesFully() throws {
        let authority = try SelfSignedAuthority.generate()
        let cas = try PEMSource(authority.caPEM).certificates(option: "ca")
        let client = TLSConfigurations.client(trusting: cas)
        #expect(client.certificateVerification == .fullVerification)
        #expect(client.trustRoots == .certificates(cas))
        #expect(TLSConfigurations.client(trusting: nil).trustRoots == .default)
    }
}
