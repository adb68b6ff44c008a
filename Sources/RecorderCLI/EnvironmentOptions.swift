import ArgumentParser

/// Lets every option and flag of a command be set with an environment variable:
/// `MCP_RECORDER_` plus the option's long name in capitals with `-` as `_`
/// (`--max-parse-bytes` is `MCP_RECORDER_MAX_PARSE_BYTES`). An option given on the
/// command line wins over the environment.
enum EnvironmentOptions {
    static let prefix = "MCP_RECORDER_"

    struct Declared: Equatable {
        var name: String
        var takesValue: Bool
    }

    /// The arguments with options from the environment added after the subcommand path.
    static func apply<Root: ParsableCommand>(to arguments: [String], root: Root.Type, environment: [String: String]) -> [String] {
        guard environment.keys.contains(where: { $0.hasPrefix(prefix) }) else { return arguments }
        var command: ParsableCommand.Type = root
        var index = 0
        while index < arguments.count,
            let sub = command.configuration.subcommands.first(where: { $0._commandName == arguments[index] })
        {
            command = sub
            index += 1
        }
        // `collector --listen …` runs `collector serve`: its options are the default subcommand's.
        while let fallback = command.configuration.defaultSubcommand { command = fallback }
        let declared = options(inHelp: root.helpMessage(for: command, columns: 10_000))
        let given = Set(arguments.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        var added: [String] = []
        for option in declared where !given.contains("--" + option.name) {
            let variable = prefix + option.name.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let value = environment[variable] else { continue }
            if option.takesValue {
                // One argument, `--name=value`: a value starting with `-` (an inline PEM) would
                // otherwise be taken for an option.
                added.append("--\(option.name)=\(value)")
            } else if ["1", "true", "yes", "on"].contains(value.lowercased()) {
                added.append("--" + option.name)
            }
        }
        return Array(arguments[..<index]) + added + Array(arguments[index...])
    }

    /// Long options listed in a help screen, and whether each takes a value.
    static func options(inHelp help: String) -> [Declared] {
        var found: [Declared] = []
        for line in help.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " })
            guard trimmed.hasPrefix("-") else { continue }
            // "-q, --quiet   text" or "--kind <KIND>   text" or "--flag/--no-flag"
            let spec = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            var takesValue = false
            var names: [String] = []
            for token in spec {
                if token.hasPrefix("<") { takesValue = true; break }
                if token.hasPrefix("--") {
                    names += token.trimmingCharacters(in: ",").split(separator: "/").map { String($0.dropFirst(2)) }
                } else if !token.hasPrefix("-") {
                    break
                }
            }
            for name in names where name != "help" && name != "version" && !found.contains(where: { $0.name == name }) {
                found.append(Declared(name: name, takesValue: takesValue))
            }
        }
        return found
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let last = s.last, set.contains(last) { s = s.dropLast() }
        return String(s)
    }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
