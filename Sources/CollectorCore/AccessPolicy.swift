import RecorderJSON

/// Who may read what: groups mapped to the namespaces they may read, and the
/// groups that may administer (legal holds, the access log). From `--access-config`.
public struct AccessPolicy: Sendable, Equatable {
    /// Group → namespaces; `*` means every namespace.
    public var groups: [String: Set<String>]
    public var adminGroups: Set<String>

    public init(groups: [String: Set<String>] = [:], adminGroups: Set<String> = []) {
        self.groups = groups
        self.adminGroups = adminGroups
    }

    /// Parses the access config: `{"groups": {"g": ["ns", …]}, "admin_groups": ["g", …]}`.
    public static func parse(_ bytes: [UInt8]) throws(AccessConfigError) -> AccessPolicy {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw AccessConfigError(message: "not JSON: \(error)") }
        guard case .object(let members) = json else { throw AccessConfigError(message: "the access config must be a JSON object") }
        var policy = AccessPolicy()
        for member in members {
            switch member.key {
            case "groups":
                guard case .object(let groups) = member.value else { throw AccessConfigError(message: "\"groups\" must map group names to arrays of namespaces") }
                for group in groups {
                    guard let list = group.value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                        throw AccessConfigError(message: "group \"\(group.key)\" must map to an array of namespace names")
                    }
                    policy.groups[group.key, default: []].formUnion(list.compactMap(\.stringValue))
                }
            case "admin_groups":
                guard let list = member.value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw AccessConfigError(message: "\"admin_groups\" must be an array of group names")
                }
                policy.adminGroups.formUnion(list.compactMap(\.stringValue))
            default:
                throw AccessConfigError(message: "unknown key \"\(member.key)\" (expected \"groups\" and \"admin_groups\")")
            }
        }
        return policy
    }

    /// The reader a set of groups makes.
    public func reader(subject: String, groups callerGroups: [String]) -> Reader {
        var namespaces: Set<String> = []
        for group in callerGroups { namespaces.formUnion(groups[group] ?? []) }
        let admin = callerGroups.contains { adminGroups.contains($0) }
        return Reader(subject: subject, groups: callerGroups, scope: namespaces.contains("*") || admin ? .all : .namespaces(namespaces), admin: admin)
    }
}

public struct AccessConfigError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "access config: \(message)" }
}

/// An authenticated reader of recordings.
public struct Reader: Sendable, Equatable {
    public enum Scope: Sendable, Equatable {
        case all
        case namespaces(Set<String>)
    }

    public var subject: String
    public var groups: [String]
    public var scope: Scope
    public var admin: Bool

    public init(subject: String, groups: [String], scope: Scope, admin: Bool) {
        self.subject = subject
        self.groups = groups
        self.scope = scope
        self.admin = admin
    }

    /// The static admin token's reader.
    public static func administrator(subject: String = "admin-token") -> Reader {
        Reader(subject: subject, groups: [], scope: .all, admin: true)
    }

    public func mayRead(namespace: String?) -> Bool {
        switch scope {
        case .all: return true
        case .namespaces(let allowed): return namespace.map { allowed.contains($0) } ?? false
        }
    }
}
