import SegmentFormat

/// A path given to the segment tools that cannot be used.
public enum SegmentPathError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case notAFileOrDirectory(String)
    case unreadable(String, String)
    case noSegments(String)

    public var description: String {
        switch self {
        case .notFound(let p): "\(p): no such file or directory"
        case .notAFileOrDirectory(let p): "\(p): not a regular file or directory"
        case .unreadable(let p, let why): "\(p): \(why)"
        case .noSegments(let p): "\(p): no segment files in this directory (expected names like STREAM.000000000001.seg.gz)"
        }
    }
}

/// The segment files named by command-line paths, in reading order.
public struct SegmentFileList: Sendable, Equatable {
    /// Files to read: explicit files as given, then each directory's segment files by stream and segment number.
    public var files: [String]
    /// Files in the directories that are not segments (ignored, but worth saying).
    public var foreign: [String]

    /// Expands files and directories. An explicit file is read whatever its name.
    public static func expand(_ paths: [String]) throws(SegmentPathError) -> SegmentFileList {
        var list = SegmentFileList(files: [], foreign: [])
        for path in paths {
            switch FileSystem.type(of: path) {
            case nil: throw .notFound(path)
            case .other: throw .notAFileOrDirectory(path)
            case .file: list.files.append(path)
            case .directory:
                let names: [String]
                do { names = try FileSystem.list(path) } catch { throw .unreadable(path, error.description) }
                var segments: [(stream: String, segment: UInt64, finished: Bool, path: String)] = []
                for name in names {
                    let full = FileSystem.join(path, name)
                    if let parsed = SegmentNaming.parse(name), FileSystem.type(of: full) == .file {
                        segments.append((parsed.stream, parsed.segment, parsed.finished, full))
                    } else if FileSystem.type(of: full) == .file, !name.hasSuffix(".state.json") {
                        list.foreign.append(full)
                    }
                }
                guard !segments.isEmpty else { throw .noSegments(path) }
                segments.sort { ($0.stream, $0.segment, $0.finished ? 0 : 1) < ($1.stream, $1.segment, $1.finished ? 0 : 1) }
                list.files += segments.map(\.path)
            }
        }
        return list
    }
}

/// Reads segment files: every line of every intact member, in order, and what is wrong.
public enum SegmentReader {
    /// Reads one file; `onLine` gets each decoded line and its exact bytes.
    public static func read(_ path: String, onLine: (SegmentLine, ArraySlice<UInt8>) -> Void = { _, _ in }) throws(FileSystemError) -> SegmentSummary {
        let bytes = try FileSystem.readFile(path)
        return bytes.withUnsafeBytes { SegmentParser.parse($0, onLine: onLine) }
    }

    /// All data records of the given files, in order (torn or damaged parts skipped, as the summaries report).
    public static func records(in paths: [String]) throws -> (records: [Record], files: [SegmentFileSummary]) {
        var records: [Record] = []
        var files: [SegmentFileSummary] = []
        for path in try SegmentFileList.expand(paths).files {
            let summary = try read(path) { line, _ in
                if case .record(let r) = line { records.append(r) }
            }
            files.append(SegmentFileSummary(name: path, summary: summary))
        }
        return (records, files)
    }

    /// Verifies files and directories: each segment, and the chain of each stream.
    public static func verify(_ paths: [String]) throws -> (files: [SegmentFileSummary], problems: [FileProblem]) {
        var files: [SegmentFileSummary] = []
        for path in try SegmentFileList.expand(paths).files {
            files.append(SegmentFileSummary(name: path, summary: try read(path)))
        }
        return (files, StreamVerifier.verify(files))
    }
}
