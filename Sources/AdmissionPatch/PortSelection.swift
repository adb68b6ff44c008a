import RecorderJSON

/// The MCP server's port in a pod: which container, which port, which `ports` entry.
public struct AppPort: Sendable, Equatable {
    /// Index in `spec.containers`.
    public var containerIndex: Int
    public var containerName: String
    public var port: Int
    /// The port's name, if its `ports` entry has one.
    public var name: String?
    /// Index of the entry in the container's `ports`; `nil` when the annotation names a
    /// number no container declares.
    public var entryIndex: Int?
}

/// A declared port of a container.
struct DeclaredPort {
    var containerIndex: Int
    var entryIndex: Int
    var port: Int
    var name: String?
    var isTCP: Bool
}

public enum PortSelection {
    /// Why no port could be chosen.
    public struct Failure: Error, Sendable, Equatable {
        public var reason: SkipReason
        public var message: String
    }

    /// The app port of a pod spec (brief §3): the `mcp-recorder.io/port` annotation (a number
    /// or a port name), else the only TCP containerPort, else the one named `mcp`, else the
    /// one named `http`.
    ///
    /// - Parameters:
    ///   - containers: `spec.containers`.
    ///   - annotation: the value of `mcp-recorder.io/port`, if any.
    ///   - defaultContainer: `kubectl.kubernetes.io/default-container`, which names the app
    ///     container when the annotation gives a number that no container declares.
    public static func select(containers: [JSONValue], annotation: String?, defaultContainer: String? = nil) -> Result<AppPort, Failure> {
        let declared = declaredPorts(containers)
        let tcp = declared.filter(\.isTCP)
        func app(_ d: DeclaredPort) -> AppPort {
            AppPort(containerIndex: d.containerIndex, containerName: containerName(containers[d.containerIndex]), port: d.port, name: d.name, entryIndex: d.entryIndex)
        }
        if let annotation = annotation?.trimmingSpaces {
            if let number = Validation.portNumber(annotation) {
                if let d = tcp.first(where: { $0.port == number }) { return .success(app(d)) }
                let index = defaultContainer.flatMap { name in containers.firstIndex(where: { containerName($0) == name }) } ?? 0
                return .success(AppPort(containerIndex: index, containerName: containerName(containers[index]), port: number, name: nil, entryIndex: nil))
            }
            guard Validation.isPortName(annotation) else {
                return .failure(Failure(reason: .invalidAnnotation, message: "\(RecorderAnnotations.port)=\"\(annotation)\" is neither a port number (1–65535) nor a port name"))
            }
            let named = tcp.filter { $0.name == annotation }
            switch named.count {
            case 1: return .success(app(named[0]))
            case 0: return .failure(Failure(reason: .noPort, message: "no container declares a TCP port named \"\(annotation)\" (\(RecorderAnnotations.port))"))
            default: return .failure(Failure(reason: .noPort, message: "several containers declare a TCP port named \"\(annotation)\""))
            }
        }
        if tcp.count == 1 { return .success(app(tcp[0])) }
        if tcp.isEmpty {
            return .failure(Failure(reason: .noPort, message: "no container declares a TCP port; set \(RecorderAnnotations.port)"))
        }
        for preferred in ["mcp", "http"] {
            let named = tcp.filter { $0.name == preferred }
            if named.count == 1 { return .success(app(named[0])) }
        }
        let list = tcp.map { d in d.name.map { "\(d.port)/\($0)" } ?? "\(d.port)" }.joined(separator: ", ")
        return .failure(Failure(reason: .noPort, message: "\(tcp.count) TCP ports (\(list)) and none named mcp or http; set \(RecorderAnnotations.port)"))
    }

    static func declaredPorts(_ containers: [JSONValue]) -> [DeclaredPort] {
        var result: [DeclaredPort] = []
        for (ci, container) in containers.enumerated() {
            for (pi, entry) in (container["ports"]?.arrayValue ?? []).enumerated() {
                guard let port = entry["containerPort"]?.intValue else { continue }
                let proto = entry["protocol"]?.stringValue ?? "TCP"
                result.append(DeclaredPort(containerIndex: ci, entryIndex: pi, port: port, name: entry["name"]?.stringValue, isTCP: proto == "TCP"))
            }
        }
        return result
    }

    static func containerName(_ container: JSONValue) -> String {
        container["name"]?.stringValue ?? ""
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
