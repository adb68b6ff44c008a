import ArgumentParser
import Collector
import CollectorStore
import ObjectStorage
import SegmentStore

/// The `--s3-*` options: where an S3 bucket is and how to sign for it (`collector`, `collector migrate`).
struct S3Options: ParsableArguments {
    @Option(help: "S3 endpoint URL (https://s3.eu-west-1.amazonaws.com, http://rgw.storage:7480, …).")
    var s3Endpoint: String?

    @Option(help: "S3 region (signing scope).")
    var s3Region = "us-east-1"

    @Option(help: "S3 bucket for segments.")
    var s3Bucket: String?

    @Option(help: "Prefix for every segment key (lets clusters share a bucket).")
    var s3Prefix = ""

    @Flag(help: "Address the bucket as BUCKET.HOST (AWS's virtual-host style) instead of HOST/BUCKET.")
    var s3VirtualHost = false

    @Option(help: "File with the S3 access key id (a mounted Secret; re-read for every request).")
    var s3AccessKeyFile: String?

    @Option(help: "File with the S3 secret access key (a mounted Secret; re-read for every request).")
    var s3SecretKeyFile: String?

    @Option(help: "Projected service-account token exchanged at STS for --s3-role-arn's keys (IRSA-style). Default: $AWS_WEB_IDENTITY_TOKEN_FILE.")
    var s3WebIdentityTokenFile: String?

    @Option(help: "Role assumed with the web identity token. Default: $AWS_ROLE_ARN.")
    var s3RoleArn: String?

    @Option(help: "STS endpoint for the web identity exchange. Default: https://sts.REGION.amazonaws.com.")
    var s3StsEndpoint: String?

    @Option(help: "PEM file of the CAs that sign the S3 endpoint's certificate (default: the system's).")
    var s3Ca: String?

    @Flag(help: "Create the bucket at start when it is missing.")
    var s3CreateBucket = false

    /// `--storage KIND` with these options, checked; `bucket` (from `migrate --to`) wins over `--s3-bucket`.
    func storage(_ kind: String, bucket: String? = nil, environment: [String: String]) throws -> SegmentStorage {
        let given = [s3Endpoint, s3Bucket, s3AccessKeyFile, s3SecretKeyFile, s3WebIdentityTokenFile, s3RoleArn, s3StsEndpoint, s3Ca].contains { $0 != nil }
        switch kind {
        case "files":
            if given || s3CreateBucket || s3VirtualHost || !s3Prefix.isEmpty { throw ValidationError("--s3-* options need --storage s3") }
            return .files
        case "s3":
            guard let endpoint = s3Endpoint, Self.isEndpointURL(endpoint) else {
                throw ValidationError("--storage s3 needs --s3-endpoint, an http(s):// URL without a path")
            }
            guard let bucket = bucket ?? s3Bucket, S3BucketName.isValid(bucket) else {
                throw ValidationError("--storage s3 needs --s3-bucket, a valid bucket name (3–63 lowercase letters, digits, dots and hyphens)")
            }
            if s3Prefix.hasPrefix("/") || s3Prefix.split(separator: "/").contains("..") { throw ValidationError("--s3-prefix must be relative, without ..") }
            let credentials: S3Storage.Credentials
            let tokenFile = s3WebIdentityTokenFile ?? (s3AccessKeyFile == nil ? environment["AWS_WEB_IDENTITY_TOKEN_FILE"] : nil)
            switch (s3AccessKeyFile, s3SecretKeyFile, tokenFile) {
            case (let access?, let secret?, nil):
                credentials = .keyFiles(accessKey: access, secretKey: secret)
            case (nil, nil, let token?):
                guard let role = s3RoleArn ?? environment["AWS_ROLE_ARN"] else { throw ValidationError("the S3 web identity token needs --s3-role-arn (or $AWS_ROLE_ARN)") }
                credentials = .webIdentity(tokenFile: token, roleARN: role, stsEndpoint: s3StsEndpoint ?? "https://sts.\(s3Region).amazonaws.com")
            case (nil, nil, nil):
                throw ValidationError("--storage s3 needs credentials: --s3-access-key-file with --s3-secret-key-file, or --s3-web-identity-token-file with --s3-role-arn")
            default:
                throw ValidationError("give either --s3-access-key-file with --s3-secret-key-file, or a web identity token, not both or half")
            }
            return .s3(S3Storage(endpoint: endpoint, region: s3Region, bucket: bucket, prefix: s3Prefix, pathStyle: !s3VirtualHost,
                                 credentials: credentials, caFile: s3Ca, createBucket: s3CreateBucket))
        default:
            throw ValidationError("--storage must be files or s3, not \"\(kind.prefix(40))\"")
        }
    }

    /// `http(s)://host[:port]`, nothing after but maybe one `/`.
    static func isEndpointURL(_ text: String) -> Bool {
        guard let scheme = ["https://", "http://"].first(where: text.hasPrefix) else { return false }
        var authority = text.dropFirst(scheme.count)
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        return !authority.isEmpty && !authority.contains("/") && !authority.contains("?") && !authority.contains("@")
    }
}

/// `--index`, `--index-url`, `--index-password-file`.
struct IndexOptions: ParsableArguments {
    @Option(help: "Where the index is: sqlite (under --data; one collector) or postgres (--index-url; several replicas).")
    var index = "sqlite"

    @Option(help: "PostgreSQL index: postgres://USER@HOST[:PORT]/DATABASE[?sslmode=verify-full|require|disable&sslrootcert=CA.pem] (default sslmode: verify-full).")
    var indexUrl: String?

    @Option(help: "File with the PostgreSQL password (a mounted Secret), instead of one in --index-url.")
    var indexPasswordFile: String?

    /// The options, checked (`readFile` reads the password file; validation passes a stub).
    func choice(readFile: (String) throws -> [UInt8]) throws -> IndexChoice {
        switch index {
        case "sqlite":
            if indexUrl != nil || indexPasswordFile != nil { throw ValidationError("--index-url and --index-password-file need --index postgres") }
            return .sqlite
        case "postgres":
            guard let indexUrl else { throw ValidationError("--index postgres needs --index-url postgres://USER@HOST/DATABASE") }
            return try Self.postgres(indexUrl, passwordFile: indexPasswordFile, readFile: readFile)
        default:
            throw ValidationError("--index must be sqlite or postgres, not \"\(index.prefix(40))\"")
        }
    }

    func choiceReadingPassword() throws -> IndexChoice {
        do {
            return try choice(readFile: { try FileSystem.readFile($0) })
        } catch let error as FileSystemError {
            throw UsageError("--index-password-file: \(error)")
        }
    }

    static func postgres(_ url: String, passwordFile: String?, readFile: (String) throws -> [UInt8]) throws -> IndexChoice {
        do {
            return .postgres(try PostgresIndexConfiguration.parse(url, passwordFile: passwordFile, readFile: readFile))
        } catch let error as IndexConfigurationError {
            throw ValidationError("--index-url: \(error)")
        }
    }
}
