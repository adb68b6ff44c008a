// Compares the gzip encoders a segment writer can use, on the bytes a writer really
// compresses: the decompressed members of real segments (each member is one batch the
// writer compressed). Run by scripts/bench-compressors.sh; prints one JSON line per
// (round, encoding, size class).
//
//   compressor-bench --segments DIR [--runs 3] [--min-seconds 0.3]
//
// Size classes: the members as the writer cut them, grouped by size ("≤4KiB",
// "4–64KiB", "64KiB–1MiB", ">1MiB"), and "4MiB": all member bytes cut into 4 MiB
// batches, what the writer compresses when batches reach their cap. Each encoding
// compresses every input of a class, repeatedly until --min-seconds have passed; the
// output is inflated again by the reader's zlib (GzipMemberScanner) and compared, so a
// broken encoder cannot post a figure. Encodings and classes are interleaved per round.
import Dispatch
import RecorderJSON
import SegmentFormat
import SegmentStore

struct Options {
    var segments = ""
    var runs = 3
    var minimumSeconds = 0.3

    init() {
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let arg = args.next() {
            guard let value = args.next() else { fatalError("missing value for \(arg)") }
            switch arg {
            case "--segments": segments = value
            case "--runs": runs = Int(value)!
            case "--min-seconds": minimumSeconds = Double(value)!
            default: fatalError("unknown option \(arg)")
            }
        }
        precondition(!segments.isEmpty, "--segments DIR is required")
    }
}

func batches(inSegmentsOf directory: String) throws -> [[UInt8]] {
    var out: [[UInt8]] = []
    for name in try FileSystem.list(directory).sorted() where name.hasSuffix(SegmentNaming.finishedSuffix) {
        let bytes = try FileSystem.readFile(FileSystem.join(directory, name))
        bytes.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw) { event in
                guard case .member(_, _, let data) = event else { fatalError("\(name): \(event)") }
                out.append(data)
                return true
            }
        }
    }
    return out
}

let options = Options()
let members = try batches(inSegmentsOf: options.segments)
precondition(!members.isEmpty, "no finished segments in \(options.segments)")

var classes: [(name: String, inputs: [[UInt8]])] = [
    ("≤4KiB", members.filter { $0.count <= 4096 }),
    ("4–64KiB", members.filter { $0.count > 4096 && $0.count <= 65_536 }),
    ("64KiB–1MiB", members.filter { $0.count > 65_536 && $0.count <= 1 << 20 }),
    (">1MiB", members.filter { $0.count > 1 << 20 }),
]
let all = members.flatMap { $0 }
classes.append(("4MiB", stride(from: 0, to: all.count, by: 4 << 20).map { Array(all[$0..<min($0 + (4 << 20), all.count)]) }))
classes.removeAll { $0.inputs.isEmpty }

let encodings: [GzipEncoding] = [
    try GzipEncoding(library: .zlib, level: 1), try GzipEncoding(library: .zlib, level: 6),
    try GzipEncoding(library: .libdeflate, level: 1), try GzipEncoding(library: .libdeflate, level: 4), try GzipEncoding(library: .libdeflate, level: 6), try GzipEncoding(library: .libdeflate, level: 9),
    try GzipEncoding(library: .isal, level: 0), try GzipEncoding(library: .isal, level: 1), try GzipEncoding(library: .isal, level: 2), try GzipEncoding(library: .isal, level: 3),
]

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

for round in 1...options.runs {
    for (className, inputs) in classes {
        let inputBytes = inputs.reduce(0) { $0 + $1.count }
        for encoding in encodings {
            let encoder = encoding.makeEncoder()
            var output: [UInt8] = []
            output.reserveCapacity(inputBytes + inputBytes / 8 + 1024)
            // Correctness first: the reader's inflate gives every input back.
            for input in inputs { encoder.compressMember(input, appendingTo: &output) }
            let compressedBytes = output.count
            var index = 0
            var ok = true
            let inflateStart = now()
            output.withUnsafeBytes { raw in
                GzipMemberScanner.scan(raw) { event in
                    guard case .member(_, _, let data) = event, index < inputs.count, data == inputs[index] else { ok = false; return false }
                    index += 1
                    return true
                }
            }
            let inflateSeconds = Double(now() - inflateStart) / 1e9
            precondition(ok && index == inputs.count, "\(encoding) on \(className): output does not inflate to the input")

            var passes = 0
            let start = now()
            var elapsed = 0.0
            repeat {
                output.removeAll(keepingCapacity: true)
                for input in inputs { encoder.compressMember(input, appendingTo: &output) }
                passes += 1
                elapsed = Double(now() - start) / 1e9
            } while elapsed < options.minimumSeconds
            let line: JSONValue = .object([
                JSONMember("round", .int(round)),
                JSONMember("class", .string(className)),
                JSONMember("library", .string(encoding.library.rawValue)),
                JSONMember("level", .int(Int(encoding.level))),
                JSONMember("inputs", .int(inputs.count)),
                JSONMember("input_bytes", .int(inputBytes)),
                JSONMember("compressed_bytes", .int(compressedBytes)),
                JSONMember("seconds_per_pass", .double(elapsed / Double(passes))),
                JSONMember("passes", .int(passes)),
                JSONMember("deflate_mb_per_s", .double(Double(inputBytes) * Double(passes) / elapsed / 1e6)),
                JSONMember("ratio", .double(Double(inputBytes) / Double(compressedBytes))),
                JSONMember("zlib_inflate_mb_per_s", .double(Double(inputBytes) / inflateSeconds / 1e6)),
            ])
            print(line.serialized())
        }
    }
}
