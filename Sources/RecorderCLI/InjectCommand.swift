import AdmissionPatch
import ArgumentParser
import RecorderJSON
import SegmentStore
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// `mcp-recorder inject -f FILE|-`: the webhook's injection, offline, on a manifest.
struct InjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inject",
        abstract: "Print a manifest with the recorder injected, as the webhook would (offline).",
        discussion: """
            Reads multi-document YAML and writes it to standard output with the recorder injected, using the same \
            code as `mcp-recorder webhook`. Pods are injected as the webhook injects them when they are created. \
            Deployments, StatefulSets, DaemonSets, Jobs and CronJobs first get the webhook's workload rule (the \
            mcp-recorder.io/inject annotation becomes the pod template's label), then their pod template is \
            injected as each pod created from it will be — so the output shows what will run. Lists are handled \
            item by item; other kinds are passed through. Key order and values are kept; comments are not. Each \
            document is preceded by a '# mcp-recorder: …' comment saying what was done; warnings also go to \
            standard error. Because the injected template carries the status annotation, applying the output to a \
            cluster with the webhook does not inject twice.
            """
    )

    @Option(name: [.customShort("f"), .customLong("filename")], help: "The manifest (multi-document YAML); '-' reads standard input.")
    var filename: String

    @Option(help: "Namespace of objects that name none.")
    var namespace = "default"

    @Flag(help: "Leave out the '# mcp-recorder: …' comments.")
    var noComments = false

    @OptionGroup var injection: InjectionOptions

    func run() throws {
        let input: String
        if filename == "-" {
            input = String(decoding: Self.readStandardInput(), as: UTF8.self)
        } else {
            do { input = String(decoding: try FileSystem.readFile(filename), as: UTF8.self) } catch { throw UsageError("-f \(filename): \(error)") }
        }
        let config = try injection.makeConfig()
        let result: ManifestInjection.Result
        do {
            result = try ManifestInjection.inject(yaml: input, defaultNamespace: namespace, config: config, comments: !noComments)
        } catch let error as ManifestYAML.Error {
            throw UsageError("\(filename == "-" ? "standard input" : filename): \(error.message)")
        }
        let out = StandardOutput()
        out.write(result.text)
        out.flush()
        for note in result.notes {
            for warning in note.outcome.warnings {
                let text = warning.hasPrefix("mcp-recorder: ") ? String(warning.dropFirst(14)) : warning
                StandardError.write("mcp-recorder inject: \(note.subject): \(text)\n")
            }
        }
    }

    static func readStandardInput() -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}

/// `inject` on YAML text: documents in, documents out, in order.
enum ManifestInjection {
    struct Result {
        var text: String
        var notes: [RenderNote]
    }

    static func inject(yaml: String, defaultNamespace: String, config: InjectionConfig, comments: Bool = true) throws -> Result {
        let documents = try ManifestYAML.documents(yaml)
        var text = ""
        var notes: [RenderNote] = []
        for (index, document) in documents.enumerated() {
            if index > 0 { text += "---\n" }
            let rendered: RenderedObject = {
                guard case .object = document else { return RenderedObject(object: document, notes: []) }
                return Injector.render(document, defaultNamespace: defaultNamespace, config: config)
            }()
            if comments {
                for note in rendered.notes {
                    text += "# mcp-recorder: \(note.subject): \(note.outcome.summary)\n"
                    for warning in note.outcome.warnings {
                        let stripped = warning.hasPrefix("mcp-recorder: ") ? String(warning.dropFirst(14)) : warning
                        // A skip's warning repeats its summary.
                        if stripped != note.outcome.summary { text += "#   warning: \(stripped)\n" }
                    }
                }
            }
            text += try ManifestYAML.emit(rendered.object)
            notes += rendered.notes
        }
        return Result(text: text, notes: notes)
    }
}

/// YAML ↔ ``JSONValue`` through Yams' node tree, so mapping keys keep their order.
///
/// Scalars are typed as Kubernetes' YAML reader types them (YAML 1.1: `true`/`yes`/`on`
/// are booleans, `0755` is octal); numbers keep their text when it is already valid JSON.
/// Strings that would read back as something else are written double-quoted; strings with
/// line breaks as literal blocks.
enum ManifestYAML {
    struct Error: Swift.Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The documents of a YAML stream; empty documents are dropped.
    static func documents(_ text: String) throws(Error) -> [JSONValue] {
        var result: [JSONValue] = []
        do {
            var sequence = try Yams.compose_all(yaml: text)
            while let node = sequence.next() {
                let value = try json(node)
                if !value.isNull { result.append(value) }
            }
            if let error = sequence.error { throw Error(message: "invalid YAML: \(error)") }
        } catch let error as Error {
            throw error
        } catch {
            throw Error(message: "invalid YAML: \(error)")
        }
        return result
    }

    static func json(_ node: Node) throws(Error) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar.string, tag: Resolver.default.resolveTag(of: node))
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for element in sequence { elements.append(try json(element)) }
            return .array(elements)
        case .mapping(let mapping):
            var members: [JSONMember] = []
            var merged: [JSONMember] = []
            for (key, value) in mapping {
                if case .scalar = key, Resolver.default.resolveTag(of: key) == .merge {
                    // `<<: *anchor` (or a list of them): keys not given explicitly.
                    let sources: [Node] = value.sequence.map { Array($0) } ?? [value]
                    for source in sources {
                        guard case .object(let more) = try json(source) else { throw Error(message: "a merge key (<<) must refer to mappings") }
                        for m in more where !merged.contains(where: { $0.key == m.key }) { merged.append(m) }
                    }
                    continue
                }
                guard case .scalar(let k) = key else { throw Error(message: "a mapping key is not a scalar\(where_(key))") }
                if members.contains(where: { $0.key == k.string }) {
                    throw Error(message: "duplicate key \"\(k.string)\"\(where_(key))")
                }
                members.append(JSONMember(k.string, try json(value)))
            }
            for m in merged where !members.contains(where: { $0.key == m.key }) { members.append(m) }
            return .object(members)
        case .alias:
            throw Error(message: "unresolved YAML alias")
        }
    }

    private static func where_(_ node: Node) -> String {
        guard let mark = node.mark else { return "" }
        return " at line \(mark.line), column \(mark.column)"
    }

    static func scalarValue(_ text: String, tag: Tag.Name) -> JSONValue {
        switch tag {
        case .null: return .null
        case .bool: return .bool(["true", "yes", "on"].contains(text.lowercased()))
        case .int: return integer(text).map(JSONValue.number) ?? .string(text)
        case .float: return float(text).map(JSONValue.number) ?? .string(text)
        default: return .string(text)
        }
    }

    /// A YAML 1.1 integer as decimal JSON text (`0x1F`, `0o17`, `017`, `0b101`, `1_000`).
    static func integer(_ text: String) -> String? {
        var body = Substring(text.filter { $0 != "_" })
        guard !body.contains(":") else { return nil }
        var negative = false
        if body.hasPrefix("-") || body.hasPrefix("+") {
            negative = body.hasPrefix("-")
            body = body.dropFirst()
        }
        let value: UInt64?
        if body.hasPrefix("0x") { value = UInt64(body.dropFirst(2), radix: 16) }
        else if body.hasPrefix("0o") { value = UInt64(body.dropFirst(2), radix: 8) }
        else if body.hasPrefix("0b") { value = UInt64(body.dropFirst(2), radix: 2) }
        else if body.count > 1 && body.hasPrefix("0") { value = UInt64(body.dropFirst(), radix: 8) }
        else {
            // Decimal: keep the digits as written.
            guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return (negative ? "-" : "") + body
        }
        guard let value else { return nil }
        return (negative && value != 0 ? "-" : "") + String(value)
    }

    /// A YAML float as JSON text; `nil` for infinities, NaN and sexagesimal.
    static func float(_ text: String) -> String? {
        let body = text.filter { $0 != "_" }
        guard !body.contains(":"), !body.lowercased().contains("inf"), !body.lowercased().contains("nan") else { return nil }
        if (try? JSONParser.parse(body)).map({ if case .number = $0 { true } else { false } }) == true { return body }
        guard let value = Double(body), value.isFinite else { return nil }
        return JSONValue.double(value).serialized()
    }

    /// One document as YAML text (ends with a newline).
    static func emit(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true)
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return .scalar(.init("null", Tag(.null), .plain))
        case .bool(let b): return .scalar(.init(b ? "true" : "false", Tag(.bool), .plain))
        case .number(let text): return .scalar(.init(text, Tag(text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? .float : .int), .plain))
        case .string(let s): return .scalar(stringScalar(s))
        case .array(let elements): return .sequence(.init(elements.map(node), Tag(.seq), .block))
        case .object(let members):
            return .mapping(.init(members.map { (Node.scalar(stringScalar($0.key)), node($0.value)) }, Tag(.map), .block))
        }
    }

    /// Strings go plain unless they would read back as another type (or as a YAML 1.1
    /// `y`/`n` boolean some readers know), then double-quoted; multi-line ones as literal blocks.
    static func stringScalar(_ s: String) -> Node.Scalar {
        if s.contains("\n") { return .init(s, Tag(.str), .literal) }
        let plain = Node.scalar(.init(s))
        if Resolver.default.resolveTag(of: plain) != .str || ["y", "Y", "n", "N"].contains(s) {
            return .init(s, Tag(.str), .doubleQuoted)
        }
        return .init(s, Tag(.str), .any)
    }
}
