import CollectorCore
import CollectorStore
import RecorderJSON
import SegmentFormat
import SegmentStore
#if canImport(Glibc)
import Glibc
#endif

// collector-bench ingest --data DIR [--limit N] SEGMENTS
//     Stores every segment of SEGMENTS (streams taken in turn, each in order) in a fresh
//     `CollectorStore` under DIR, in this process, one at a time, without HTTP or TLS: the
//     collector's three phases as the ingest route runs them (check, index facts, the store's
//     transaction). Prints the CPU time of each phase (JSON), so a change to one phase is
//     measured apart from the others and from the client. --limit: at most N segments per stream
//     (a short run, e.g. under callgrind).

/// CPU seconds of this process (all threads, user + system).
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func ingestInProcess(_ args: Arguments) async throws {
    guard let directory = args.positional.first else { fail("ingest: the segment directory is required") }
    let data = args.required("--data")
    let limit = args.int("--limit", Int.max)
    guard FileSystem.type(of: FileSystem.join(data, "index.sqlite")) == nil else { fail("ingest: \(data) already holds an index; give a fresh directory") }

    var streams: [[(stream: String, segment: UInt64, bytes: [UInt8])]] = []
    for name in try FileSystem.list(directory).sorted() {
        let path = FileSystem.join(directory, name)
        guard FileSystem.type(of: path) == .directory else { continue }
        // Only the files ingested are read (the first `limit` by number).
        let files = try FileSystem.list(path).compactMap { file in SegmentNaming.parse(file).flatMap { $0.finished ? (file, $0) : nil } }
            .sorted { $0.1.segment < $1.1.segment }.prefix(limit)
        let segments = try files.map { file, parsed in (stream: parsed.stream, segment: parsed.segment, bytes: try FileSystem.readFile(FileSystem.join(path, file))) }
        if !segments.isEmpty { streams.append(segments) }
    }
    guard !streams.isEmpty else { fail("ingest: no segments under \(directory)") }

    let store = try await CollectorStore(directory: data)
    var cpu = (check: 0.0, facts: 0.0, store: 0.0)
    var totals = (segments: 0, bytes: 0, records: UInt64(0))
    let clock = ContinuousClock()
    let started = clock.now
    for round in 0..<(streams.map(\.count).max() ?? 0) {
        for stream in streams where round < stream.count {
            let (name, number, bytes) = stream[round]
            let t0 = processCPUSeconds()
            guard case .success(let checked) = IngestCheck.check(bytes, stream: name, segment: number, declaredSHA256: nil) else {
                fail("ingest: \(name) segment \(number) fails the collector's check")
            }
            let t1 = processCPUSeconds()
            let facts = SegmentIndexer.facts(checked.records)
            let t2 = processCPUSeconds()
            guard case .stored(let records) = try await store.ingest(checked, facts: facts, identity: .staticToken) else {
                fail("ingest: \(name) segment \(number) was not stored")
            }
            let t3 = processCPUSeconds()
            cpu.check += t1 - t0
            cpu.facts += t2 - t1
            cpu.store += t3 - t2
            totals.segments += 1
            totals.bytes += bytes.count
            totals.records += records
        }
    }
    let wall = seconds(clock.now - started)
    func phase(_ s: Double) -> JSONValue {
        .object([JSONMember("cpu_s", .double(s)), JSONMember("ms_per_mb", .double(s * 1e3 / (Double(totals.bytes) / 1e6)))])
    }
    print(JSONValue.object([
        JSONMember("segments", .int(totals.segments)), JSONMember("bytes", .int(totals.bytes)), JSONMember("records", .int(totals.records)),
        JSONMember("seconds", .double(wall)), JSONMember("mb_per_s", .double(Double(totals.bytes) / 1e6 / wall)),
        JSONMember("check", phase(cpu.check)), JSONMember("facts", phase(cpu.facts)), JSONMember("store", phase(cpu.store)),
    ]).serialized())
}
