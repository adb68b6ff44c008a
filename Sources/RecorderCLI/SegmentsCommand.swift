import ArgumentParser
import CollectorCore
import Foundation
import RecorderJSON
import SegmentFormat
import SegmentStore

/// `mcp-recorder segments …`: read local segment files, no collector needed.
struct SegmentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segments",
        abstract: "Read, check and summarise local segment files (a spool directory or files copied from one).",
        subcommands: [Cat.self, Verify.self, Stats.self]
    )

    struct Paths: ParsableArguments {
        @Argument(help: ArgumentHelp("Segment files or directories of segments.", valueName: "FILE|DIR"))
        var paths: [String]

        /// The files to read, or a usage error (exit 2) for a path that cannot be used.
        func files() throws -> SegmentFileList {
            do {
                let list = try SegmentFileList.expand(paths)
                for file in list.foreign {
                    StandardError.write("mcp-recorder: skipping \(file): not a segment file name\n")
                }
                return list
            } catch {
                throw UsageError(error.description)
            }
        }
    }

    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every record as JSON Lines, in order.",
            discussion: """
                Prints the lines of every intact gzip member exactly as stored, header and trailer included \
                (use --records-only to leave those out). A torn or damaged tail is reported on standard error, \
                after every complete record before it; the exit status is then 1.
                """
        )

        @OptionGroup var input: Paths

        @Flag(help: "Print data records only, without segment headers and trailers.")
        var recordsOnly = false

        @Option(name: .customLong("kind"), help: ArgumentHelp("Print only records of this kind (repeatable): \(RecordKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "KIND"))
        var kinds: [String] = []

        func validate() throws {
            for kind in kinds where RecordKind(rawValue: kind) == nil {
                throw ValidationError("unknown record kind \"\(kind)\"; kinds are \(RecordKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let list = try input.files()
            let out = StandardOutput()
            let wanted = Set(kinds.compactMap(RecordKind.init(rawValue:)))
            var failed = false
            for file in list.files {
                let summary: SegmentSummary
                do {
                    summary = try SegmentReader.read(file) { line, raw in
                        switch line {
                        case .header, .trailer:
                            if recordsOnly || !wanted.isEmpty { return }
                        case .record(let record):
                            if !wanted.isEmpty && !wanted.contains(record.body.kind) { return }
                        }
                        out.write(raw)
                        out.write(CollectionOfOne(UInt8(ascii: "\n")))
                    }
                } catch {
                    out.flush()
                    StandardError.write("mcp-recorder: \(error)\n")
                    failed = true
                    continue
                }
                out.flush()
                for problem in summary.problems {
                    StandardError.write("mcp-recorder: \(file): \(problem.kind.rawValue): \(problem.message)\n")
                    if problem.kind != .torn || summary.tearOffset != nil || !file.hasSuffix(SegmentNaming.inProgressSuffix) {
                        failed = true
                    }
                }
            }
            out.flush()
            if failed { throw ExitCode(1) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check segments and the chain between them.",
            discussion: """
                Checks gzip integrity, the schema of every record, contiguous record sequence numbers, \
                header/trailer agreement, file names, and the prev_sha256 chain and segment numbering across \
                the segments of each stream (gap records excuse what they declare dropped). Prints one line per \
                problem naming the file. Exit status: 0 clean, 1 integrity problem, 2 usage error.
                """
        )

        @OptionGroup var input: Paths

        @Flag(name: .shortAndLong, help: "Print nothing when clean; only problems.")
        var quiet = false

        @Option(help: ArgumentHelp("Evidence from the collector (evidence.json of `sessions evidence`): every segment given must be one it lists, with the SHA-256 the collector's signed log holds, and every segment it lists must be given.", valueName: "FILE"))
        var checkpoint: String?

        @Option(help: ArgumentHelp("The collector's checkpoint key to trust (64 hex digits, or the JSON of GET /v1/checkpoints/key).", valueName: "FILE"))
        var pubkey: String?

        @Option(help: ArgumentHelp("An earlier checkpoint kept elsewhere: the evidence must prove the log only grew since.", valueName: "FILE"))
        var previousCheckpoint: String?

        func validate() throws {
            if (checkpoint == nil) != (pubkey == nil) { throw ValidationError("--checkpoint and --pubkey go together") }
            if previousCheckpoint != nil && checkpoint == nil { throw ValidationError("--previous-checkpoint needs --checkpoint and --pubkey") }
        }

        func run() throws {
            let list = try input.files()
            let out = StandardOutput()
            var files: [SegmentFileSummary] = []
            var problems: [FileProblem] = []
            for path in list.files {
                do {
                    files.append(SegmentFileSummary(name: path, summary: try SegmentReader.read(path)))
                } catch {
                    problems.append(FileProblem(file: path, problem: SegmentProblem(.corrupt, "unreadable: \(error)")))
                }
            }
            problems += StreamVerifier.verify(files)
            for problem in problems { out.write(problem.description + "\n") }
            var evidenceProblems: [EvidenceCheck.Problem] = []
            if let checkpoint, let pubkey {
                let evidence = try EvidenceFiles.evidence(checkpoint)
                let key = try EvidenceFiles.publicKey(pubkey)
                let previous = try previousCheckpoint.map { try EvidenceFiles.checkpoint($0, option: "--previous-checkpoint") }
                var hashes: [String: String] = [:]
                for file in files { hashes[(file.name as NSString).lastPathComponent] = file.summary.sha256 }
                evidenceProblems = EvidenceCheck.check(evidence, files: hashes, key: key, previous: previous)
                if !evidenceProblems.isEmpty || !quiet { _ = EvidenceFiles.report(evidenceProblems, evidence: evidence, out: out) }
            }
            let records = files.reduce(0) { $0 + $1.summary.records }
            if problems.isEmpty && evidenceProblems.isEmpty {
                if !quiet { out.write("ok: \(files.count) segment(s), \(records) record(s), chain intact\n") }
                out.flush()
                return
            }
            if problems.isEmpty {
                out.write("FAILED: \(evidenceProblems.count) problem(s) against the collector's signed log\n")
                out.flush()
                throw ExitCode(1)
            }
            let bad = Set(problems.map(\.file)).count
            out.write("FAILED: \(problems.count) problem(s) in \(bad) of \(list.files.count) file(s)\n")
            out.flush()
            throw ExitCode(1)
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise segments: records by kind, bytes raw and compressed, ratio, time span."
        )

        @OptionGroup var input: Paths

        @Flag(help: "Print the summary as one JSON object.")
        var json = false

        func run() throws {
            let list = try input.files()
            var byKind: [RecordKind: UInt64] = [:]
            var records: UInt64 = 0, raw = 0, compressed = 0, sealed = 0, open = 0, problems = 0
            var first: RecordTime?, last: RecordTime?
            var streams = Set<String>()
            for path in list.files {
                let s: SegmentSummary
                do { s = try SegmentReader.read(path) } catch {
                    StandardError.write("mcp-recorder: \(error)\n")
                    problems += 1
                    continue
                }
                records += s.records
                raw += s.rawBytes
                compressed += s.compressedBytes
                if s.isSealed { sealed += 1 } else { open += 1 }
                problems += s.problems.count
                if let h = s.header { streams.insert(h.stream) }
                for (k, v) in s.recordsByKind { byKind[k, default: 0] += v }
                if let t = s.firstTime { first = min(first ?? t, t) }
                if let t = s.lastTime { last = max(last ?? t, t) }
            }
            let ratio = compressed > 0 ? Double(raw) / Double(compressed) : 0
            let span = first.flatMap { f in last.map { Double($0.nanosecondsSinceEpoch - f.nanosecondsSinceEpoch) / 1e9 } }
            let out = StandardOutput()
            if json {
                let value: JSONValue = .object([
                    JSONMember("files", .int(list.files.count)),
                    JSONMember("streams", .array(streams.sorted().map { .string($0) })),
                    JSONMember("segments_sealed", .int(sealed)),
                    JSONMember("segments_in_progress", .int(open)),
                    JSONMember("records", .int(records)),
                    JSONMember("records_by_kind", .object(RecordKind.allCases.compactMap { k in byKind[k].map { JSONMember(k.rawValue, .int($0)) } })),
                    JSONMember("raw_bytes", .int(raw)),
                    JSONMember("compressed_bytes", .int(compressed)),
                    JSONMember("ratio", .double((ratio * 100).rounded() / 100)),
                    JSONMember("first_time", first.map { .string($0.rfc3339) } ?? .null),
                    JSONMember("last_time", last.map { .string($0.rfc3339) } ?? .null),
                    JSONMember("span_seconds", span.map { .double($0) } ?? .null),
                    JSONMember("problems", .int(problems)),
                ])
                out.write(value.serialized() + "\n")
            } else {
                func row(_ label: String, _ value: String) { out.write(label.padding(18) + value + "\n") }
                row("files", "\(list.files.count) (\(sealed) sealed, \(open) in progress)")
                row("streams", streams.sorted().joined(separator: ", "))
                row("records", "\(records)")
                for kind in RecordKind.allCases { if let n = byKind[kind] { row("  " + kind.rawValue, "\(n)") } }
                row("raw bytes", "\(raw)")
                row("compressed bytes", "\(compressed)")
                row("ratio", String(format2: ratio) + "x")
                if let first, let last, let span {
                    row("time span", "\(first.rfc3339) → \(last.rfc3339) (\(String(format2: span)) s)")
                }
                if problems > 0 { row("problems", "\(problems) (run `mcp-recorder segments verify` for details)") }
            }
            out.flush()
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    /// Two decimals, without Foundation.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded()
        let whole = Int(scaled / 100)
        let cents = abs(Int(scaled) % 100)
        self = "\(whole).\(cents < 10 ? "0" : "")\(cents)"
    }
}
