/// One segment file as the stream verifier sees it.
public struct SegmentFileSummary: Sendable {
    public var name: String
    public var summary: SegmentSummary
    public init(name: String, summary: SegmentSummary) {
        self.name = name
        self.summary = summary
    }
}

/// A problem found in one file.
public struct FileProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var problem: SegmentProblem
    public init(file: String, problem: SegmentProblem) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem.kind.rawValue): \(problem.message)" }
}

/// Checks the segments of one or more streams against each other: contiguous
/// segment numbers, contiguous record sequence, the `prev_sha256` chain, and
/// file names that agree with headers. `gap` records excuse exactly what they
/// declare as dropped.
///
/// The first segment present for a stream is accepted as its start (earlier
/// ones may have been shipped and removed).
public enum StreamVerifier {
    public static func verify(_ files: [SegmentFileSummary]) -> [FileProblem] {
        var problems: [FileProblem] = []
        for file in files {
            for p in file.summary.problems { problems.append(FileProblem(file: file.name, problem: p)) }
            if let header = file.summary.header, let named = SegmentNaming.parse(baseName(file.name)) {
                if named.stream != header.stream || named.segment != header.segment {
                    problems.append(FileProblem(file: file.name, problem: SegmentProblem(.naming,
                        "file name says stream \(named.stream) segment \(named.segment) but its header says stream \(header.stream) segment \(header.segment) (renamed or swapped)")))
                }
            }
        }
        var byStream: [String: [SegmentFileSummary]] = [:]
        var order: [String] = []
        for file in files {
            guard let header = file.summary.header else { continue }
            if byStream[header.stream] == nil { order.append(header.stream) }
            byStream[header.stream, default: []].append(file)
        }
        for stream in order {
            // Chain order is the segment number the file name gives (the header's when the
            // name is not a segment name), whatever order the files were named in.
            let files = byStream[stream]!.enumerated().sorted { a, b in
                let x = SegmentNaming.parse(baseName(a.element.name))?.segment ?? a.element.summary.header!.segment
                let y = SegmentNaming.parse(baseName(b.element.name))?.segment ?? b.element.summary.header!.segment
                return (x, a.offset) < (y, b.offset)
            }.map(\.element)
            problems += verifyChain(files)
        }
        return problems
    }

    /// Files of one stream, in the order given (name order).
    static func verifyChain(_ files: [SegmentFileSummary]) -> [FileProblem] {
        var problems: [FileProblem] = []
        let gaps = files.flatMap(\.summary.gaps)
        func droppedSegments(_ range: ClosedRange<UInt64>) -> Bool {
            range.allSatisfy { n in gaps.contains { $0.declares(segment: n) } }
        }
        func droppedRecords(_ range: ClosedRange<UInt64>) -> Bool {
            gaps.contains { g in
                guard let f = g.firstSeq, let l = g.lastSeq else { return false }
                return f <= range.lowerBound && range.upperBound <= l
            }
        }
        for (previous, current) in zip(files, files.dropFirst()) {
            guard let ph = previous.summary.header, let ch = current.summary.header else { continue }
            if ch.segment <= ph.segment {
                problems.append(FileProblem(file: current.name, problem: SegmentProblem(.chain,
                    "segment \(ch.segment) comes after segment \(ph.segment) (\(previous.name)): segments are out of order")))
                continue
            }
            if ch.segment > ph.segment + 1 {
                let missing = (ph.segment + 1)...(ch.segment - 1)
                if !droppedSegments(missing) {
                    let what = missing.count == 1 ? "segment \(missing.lowerBound) is" : "segments \(missing.lowerBound)–\(missing.upperBound) are"
                    problems.append(FileProblem(file: current.name, problem: SegmentProblem(.missing,
                        "\(what) missing between \(previous.name) and this file, and no gap record declares them dropped")))
                }
                continue
            }
            if ch.previousSHA256 != previous.summary.sha256 {
                problems.append(FileProblem(file: current.name, problem: SegmentProblem(.chain,
                    "prev_sha256 \(ch.previousSHA256 ?? "null") does not match SHA-256 \(previous.summary.sha256) of \(previous.name): \(previous.name) was altered or replaced")))
            }
            if let lastSeq = previous.summary.trailer?.lastSeq ?? previous.summary.lastSeq {
                if ch.firstSeq != lastSeq + 1 {
                    let missingRecords = ch.firstSeq > lastSeq + 1 ? (lastSeq + 1)...(ch.firstSeq - 1) : nil
                    if missingRecords.map(droppedRecords) != true {
                        problems.append(FileProblem(file: current.name, problem: SegmentProblem(.sequence,
                            "first_seq \(ch.firstSeq) does not follow last seq \(lastSeq) of \(previous.name)")))
                    }
                }
            }
        }
        return problems
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
