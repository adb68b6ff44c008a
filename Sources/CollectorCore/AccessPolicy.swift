import RecorderJSON

/// Who may read what: groups mapped to the namespaces they may read, the groups that
/// may administer (legal holds, the access log), and the groups that may approve or deny
/// tool calls held in their namespaces. From `--access-config`.
public struct AccessPolicy: Sendable, Equatable {
    /// Group → namespaces; `*` means every namespace.
    public var groups: [String: Set<String>]
    public var adminGroups: Set<String>
    /// Group → namespaces whose held calls its members may approve or deny; `*` means every namespace.
    public var approverGroups: [String: Set<String>]

    public init(groups: [String: Set<String>] = [:], adminGroups: Set<String> = [], approverGroups: [String: Set<String>] = [:]) {
        self.groups = groups
        self.adminGroups = adminGroups
        self.approverGroups = approverGroups
    }

    /// Parses the access config: `{"groups": {"g": ["ns", …]}, "admin_groups": ["g", …], "approver_groups": {"g": ["ns", …]}}`.
    public static func parse(_ bytes: [UInt8]) throws(AccessConfigError) -> AccessPolicy {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw AccessConfigError(message: "not JSON: \(error)") }
        guard case .object(let members) = json else { throw AccessConfigError(message: "the access config must be a JSON object") }
        var policy = AccessPolicy()
        for member in members {
            switch member.key {
            case "groups":
                policy.groups = try namespacesByGroup(member)
            case "approver_groups":
                policy.approverGroups = try namespacesByGroup(member)
            case "admin_groups":
                guard let list = member.value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw AccessConfigError(message: "\"admin_groups\" must be an array of group names")
                }
                policy.adminGroups.formUnion(list.compactMap(\.stringValue))
            default:
                throw AccessConfigError(message: "unknown key \"\(member.key)\" (expected \"groups\", \"admin_groups\" and \"approver_groups\")")
            }
        }
        return policy
    }

    private static func namespacesByGroup(_ member: JSONMember) throws(AccessConfigError) -> [String: Set<String>] {
        guard case .object(let groups) = member.value else { throw AccessConfigError(message: "\"\(member.key)\" must map group names to arrays of namespaces") }
        var result: [String: Set<String>] = [:]
        for group in groups {
            guard let list = group.value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw AccessConfigError(message: "group \"\(group.key)\" of \"\(member.key)\" must map to an array of namespace names")
            }
            result[group.key, default: []].formUnion(list.compactMap(\.stringValue))
        }
        return result
    }

    /// The reader a set of groups makes.
    public func reader(subject: String, groups callerGroups: [String]) -> Reader {
        var namespaces: Set<String> = []
        for group in callerGroups { namespaces.formUnion(groups[group] ?? []) }
        let admin = callerGroups.contains { adminGroups.contains($0) }
        var approvable: Set<String> = []
        for group in callerGroups { approvable.formUnion(approverGroups[group] ?? []) }
        return Reader(subject: subject, groups: callerGroups, scope: namespaces.contains("*") || admin ? .all : .namespaces(namespaces), admin: admin,
                      approves: approvable.contains("*") || admin ? .all : .namespaces(approvable))
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
    /// The namespaces whose held tool calls this reader may approve or deny (admins: all).
    public var approves: Scope

    public init(subject: String, groups: [String], scope: Scope, admin: Bool, approves: Scope? = nil) {
        self.subject = subject
        self.groups = groups
        self.scope = scope
        self.admin = admin
        self.approves = approves ?? (admin ? .all : .namespaces([]))
    }

    /// The static admin token's reader.
    public static func administrator(subject: String = "admin-token") -> Reader {
        Reader(subject: subject, groups: [], scope: .all, admin: true)
    }

    public func mayRead(namespace: String?) -> Bool { scope.contains(namespace) }

    public func mayApprove(namespace: String?) -> Bool { approves.contains(namespace) }
}

extension Reader.Scope {
    func contains(_ namespace: String?) -> Bool {
        switch self {
        case .all: return true
        case .namespaces(let allowed): return namespace.map { allowed.contains($0) } ?? false
        }
    }
}
