/// The version of mcp-recorder, written into segment headers and printed by `--version`.
public enum RecorderVersion {
    public static let current = "0.1.0"
}
