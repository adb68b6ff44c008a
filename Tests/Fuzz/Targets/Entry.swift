// The entry points of `mcp-recorder-fuzz`: one binary, many targets, picked by
// MCP_RECORDER_FUZZ_TARGET. scripts/fuzz.sh builds it with `-sanitize=fuzzer,address
// -D FUZZING`, and it runs libFuzzer's driver; a normal build gets a small `@main` that
// names the targets and writes the seeds that are real segments.
import Foundation

#if FUZZING
import CLibFuzzer

nonisolated(unsafe) var selectedTarget: FuzzTarget = .http1

/// Called once by libFuzzer before the first input: picks the target.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    guard let name = ProcessInfo.processInfo.environment["MCP_RECORDER_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        print("set MCP_RECORDER_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    selectedTarget.run(start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
    return 0
}

/// The executable's entry point as SwiftPM names it (it links `main` to `<module>_main`):
/// libFuzzer's driver, with the command line.
@_cdecl("mcp_recorder_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { start, count in fuzzOneInput(start, count) }
}
#else
@main
enum FuzzStub {
    /// `mcp-recorder-fuzz seed DIR` writes the seeds that are real segments; otherwise it names the targets.
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3 && arguments[1] == "seed" else {
            print("mcp-recorder-fuzz is built and run by scripts/fuzz.sh; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
            return
        }
        let real = RealSegments.stream
        let seeds: [String: [UInt8]] = [
            "real-second": [0] + real.second.bytes, "real-first": [0] + real.first.bytes,
            "unchanged": [1], "flips": [1, 10, 0, 1, 200, 0, 0x80, 40, 1, 0xFF],
        ]
        for target in ["segment", "upload"] {
            let directory = arguments[2] + "/" + target
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, bytes) in seeds { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        }
    }
}
#endif
