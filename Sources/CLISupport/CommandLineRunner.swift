#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation

/// Runs a command tree the way illumos' cmdparse runs stmfadm, sbdadm, fcinfo and fcadm:
///
/// - `-V` / `--version` before the subcommand prints `TOOL: Version 1.0` and exits 0;
/// - usage errors exit 1 (cmdparse's status), not swift-argument-parser's 64;
/// - options of the subcommand may come before its name (`stmfadm --state-dir X list-lu`);
/// - a negative number is a value, not an unknown option: `-n -1` reaches the command, which
///   says it is negative (and a negative operand reaches it as an operand).
public enum CommandLineRunner {
    /// cmdparse's status for a usage error.
    public static let usageStatus: Int32 = 1

    public static func main<C: ParsableCommand>(_ command: C.Type, version: String = "1.0",
                                                 arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        let tool = C.configuration.commandName ?? "command"
        if let first = arguments.first, first == "-V" || first == "--version" {
            print("\(tool): Version \(version)")
            exit(0)
        }
        let args = ArgumentRewriter(tree: CommandTree.of(C.self)).rewrite(arguments)
        do {
            var parsed = try C.parseAsRoot(args)
            try parsed.run()
            exit(0)
        } catch {
            let code = C.exitCode(for: error)
            guard code == .validationFailure else { C.exit(withError: error) }
            let text = C.fullMessage(for: error)
            FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
            exit(usageStatus)
        }
    }
}

/// The options and subcommands of a command tree, from swift-argument-parser's own description
/// of it (`--experimental-dump-help`).
public struct CommandTree: Decodable, Sendable {
    public struct Name: Decodable, Sendable {
        public var kind: String
        public var name: String
        public var spelled: String { kind == "short" ? "-" + name : (kind == "long" ? "--" + name : "-" + name) }
    }

    public struct Argument: Decodable, Sendable {
        public var kind: String
        public var names: [Name]?
        public var valueName: String?
        public var isOptional: Bool?
        public var isRepeating: Bool?
        public var abstract: String?
        public var discussion: String?
        public var defaultValue: String?
        public var shouldDisplay: Bool?
    }

    public var commandName: String
    public var abstract: String?
    public var discussion: String?
    public var subcommands: [CommandTree]?
    public var arguments: [Argument]?
    public var defaultSubcommand: String?
    public var shouldDisplay: Bool?

    struct Document: Decodable { var command: CommandTree }

    public static func of<C: ParsableCommand>(_ command: C.Type) -> CommandTree {
        let json = C._dumpHelp()
        return (try? JSONDecoder().decode(Document.self, from: Data(json.utf8)).command)
            ?? CommandTree(commandName: C.configuration.commandName ?? "")
    }

    init(commandName: String) { self.commandName = commandName }

    public func subcommand(_ name: String) -> CommandTree? {
        subcommands?.first { $0.commandName == name }
    }

    /// Every spelling of an option that takes a value (`-n`, `--lun`), with its long spelling.
    public var valueOptions: [String: String?] {
        var out: [String: String?] = [:]
        for a in arguments ?? [] where a.kind == "option" {
            let long = a.names?.first { $0.kind == "long" }.map(\.spelled)
            for n in a.names ?? [] { out[n.spelled] = long }
        }
        return out
    }

    /// Every spelling of a flag.
    public var flags: Set<String> {
        Set((arguments ?? []).filter { $0.kind == "flag" }.flatMap { ($0.names ?? []).map(\.spelled) })
    }

    /// The value options of this command and all below it (for options given before the
    /// subcommand's name).
    var allValueOptions: Set<String> {
        Set(valueOptions.keys).union((subcommands ?? []).flatMap(\.allValueOptions))
    }
}

/// Moves options given before the subcommand after it, and keeps negative numbers as values.
struct ArgumentRewriter {
    var tree: CommandTree

    static func isNegativeNumber(_ s: String) -> Bool {
        guard s.count >= 2, s.first == "-" else { return false }
        return s.dropFirst().first?.isNumber ?? false
    }

    func rewrite(_ arguments: [String]) -> [String] {
        var args = arguments
        if let end = args.firstIndex(of: "--") {
            return rewriteOptions(Array(args[..<end])) + Array(args[end...])
        }
        args = rewriteOptions(args)
        return args
    }

    private func rewriteOptions(_ arguments: [String]) -> [String] {
        // Options before the subcommand path, then the path itself.
        var leading: [String] = []
        var i = 0
        let valued = tree.allValueOptions
        while i < arguments.count, arguments[i].hasPrefix("-"), !Self.isNegativeNumber(arguments[i]) {
            let t = arguments[i]
            if t == "-h" || t == "--help" || t.hasPrefix("---") || t.hasPrefix("--generate-completion") || t.hasPrefix("--experimental") {
                return arguments    // help, completion and tool-info requests go through untouched
            }
            leading.append(t)
            if !t.contains("="), valued.contains(t), i + 1 < arguments.count {
                leading.append(arguments[i + 1])
                i += 1
            }
            i += 1
        }
        var path: [String] = []
        var node = tree
        while i < arguments.count, let sub = node.subcommand(arguments[i]) {
            path.append(arguments[i])
            node = sub
            i += 1
        }
        if path.isEmpty, let d = node.defaultSubcommand, let sub = node.subcommand(d) { node = sub }
        // The leaf's options: a negative number after one that takes a value is its value.
        let options = node.valueOptions
        var rest: [String] = []
        var operands: [String] = []
        var tail = Array(arguments[i...])
        tail = leading + tail
        var j = 0
        var negativeOperandSeen = false
        while j < tail.count {
            let t = tail[j]
            if let long = options[t], j + 1 < tail.count, Self.isNegativeNumber(tail[j + 1]) {
                if let long { rest.append(long + "=" + tail[j + 1]) } else { rest += [t, tail[j + 1]] }
                j += 2
                continue
            }
            if options[t] != nil, j + 1 < tail.count {
                rest += [t, tail[j + 1]]
                j += 2
                continue
            }
            if Self.isNegativeNumber(t) {
                negativeOperandSeen = true
                operands.append(t)
            } else if negativeOperandSeen && !t.hasPrefix("-") {
                operands.append(t)     // operands keep their order behind the terminator
            } else {
                rest.append(t)
            }
            j += 1
        }
        return path + rest + (operands.isEmpty ? [] : ["--"] + operands)
    }
}
