import ArgumentParser
import CollectorCore
import Foundation
import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat
import SegmentStore

/// Reading the files evidence checks need: a trusted public key, a checkpoint, an evidence file.
enum EvidenceFiles {
    /// A checkpoint key file: 64 hex digits, or the JSON of `GET /v1/checkpoints/key`.
    static func publicKey(_ path: String, option: String = "--pubkey") throws -> StreamPublicKey {
        let text = try readText(path, option: option)
        if let key = StreamPublicKey(hex: text) { return key }
        if let json = try? JSONParser.parse(Array(text.utf8)), let key = json["public_key"]?.stringValue.flatMap(StreamPublicKey.init(hex:)) { return key }
        throw UsageError("\(option) \(path): expected an Ed25519 public key as 64 hex digits, or the JSON of GET /v1/checkpoints/key")
    }

    /// A checkpoint: its JSON, or the last line of a file `--checkpoint-push file:` appends to.
    static func checkpoint(_ path: String, option: String) throws -> Checkpoint {
        let text = try readText(path, option: option)
        let last = text.split(separator: "\n").last.map(String.init) ?? text
        guard let json = try? JSONParser.parse(Array(last.utf8)) else { throw UsageError("\(option) \(path): not JSON") }
        switch Checkpoint.parse(json) {
        case .success(let c): return c
        case .failure(let error): throw UsageError("\(option) \(path): \(error.message)")
        }
    }

    static func evidence(_ path: String) throws -> Evidence {
        let text = try readText(path, option: "--checkpoint")
        guard let json = try? JSONParser.parse(Array(text.utf8)) else { throw UsageError("--checkpoint \(path): not JSON") }
        switch Evidence.parse(json) {
        case .success(let e): return e
        case .failure(let error): throw UsageError("--checkpoint \(path): \(error.message)")
        }
    }

    static func readText(_ path: String, option: String) throws -> String {
        do {
            return String(decoding: try FileSystem.readFile(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw UsageError("\(option) \(path): \(error)")
        }
    }

    /// The bytes of a segment the evidence lists, as the collector stores them.
    static func segment(_ entry: Evidence.Entry, from client: CollectorClient) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await client.stream("/v1/streams/\(URLEncoding.component(entry.stream))/segments/\(entry.segment)") { buffer in
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// The proof that the log at `previous` is a prefix of the log at `checkpoint`.
    static func consistency(from previous: Checkpoint, to checkpoint: Checkpoint, client: CollectorClient) async throws -> JSONValue {
        try await client.getJSON("/v1/checkpoints/consistency", query: [("from", String(previous.treeSize)), ("to", String(checkpoint.treeSize))])["proof"] ?? .array([])
    }

    /// Prints evidence problems; true when there were none.
    static func report(_ problems: [EvidenceCheck.Problem], evidence: Evidence, out: StandardOutput) -> Bool {
        for problem in problems { out.write(problem.description + "\n") }
        if problems.isEmpty {
            out.write("ok: \(evidence.segments.count) segment(s) proven in the collector's log at checkpoint \(evidence.checkpoint.treeSize) (\(evidence.checkpoint.timestamp.rfc3339)), signed by key \(evidence.checkpoint.signature.keyID)\n")
        }
        return problems.isEmpty
    }
}

extension SessionsCommand {
    struct EvidenceDownload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "evidence",
            abstract: "Download a session's segments with the proofs that they are in the collector's signed log.",
            discussion: """
                Writes the segment files holding the session and evidence.json (a signed checkpoint of the \
                collector's Merkle log and each segment's inclusion proof) to DIR, for anyone to check offline \
                with `mcp-recorder segments verify DIR --checkpoint DIR/evidence.json --pubkey KEY`. With --since \
                FILE (an earlier checkpoint kept elsewhere), evidence.json also proves that the log only grew since.
                """
        )

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The session id.", valueName: "ID"))
        var id: String

        @Option(name: .customLong("out"), help: ArgumentHelp("The directory to write to (created if missing).", valueName: "DIR"))
        var directory: String

        @Option(help: ArgumentHelp("An earlier checkpoint (JSON, or the JSON-lines file --checkpoint-push file: writes) to prove consistency with.", valueName: "FILE"))
        var since: String?

        func run() async throws {
            let previous = try since.map { try EvidenceFiles.checkpoint($0, option: "--since") }
            do { try FileSystem.createDirectories(directory) } catch { throw UsageError("--out \(directory): \(error)") }
            let written = try await SessionsCommand.withCollector(connection) { client -> Int in
                var body = try await client.getJSON(SessionsCommand.sessionPath(id, "/evidence"))
                guard case .success(let evidence) = Evidence.parse(body) else { throw RemoteFailure("the collector's evidence is not valid evidence") }
                if let previous {
                    let proof = try await EvidenceFiles.consistency(from: previous, to: evidence.checkpoint, client: client)
                    if case .object(var members) = body {
                        members.append(JSONMember("consistency", .object([JSONMember("from", .int(previous.treeSize)), JSONMember("proof", proof)])))
                        body = .object(members)
                    }
                }
                for entry in evidence.segments {
                    try FileSystem.writeAtomically(try await EvidenceFiles.segment(entry, from: client),
                                                   to: FileSystem.join(directory, SegmentNaming.finishedName(stream: entry.stream, segment: entry.segment)))
                }
                try FileSystem.writeAtomically(Array((body.serialized() + "\n").utf8), to: FileSystem.join(directory, "evidence.json"))
                return evidence.segments.count
            }
            StandardError.write("mcp-recorder: wrote \(written) segment(s) and evidence.json to \(directory)\n")
        }
    }
}
