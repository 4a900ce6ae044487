import Foundation
import ProcessTestSupport
import SBD
import Testing

/// The committed man pages (man/man8) against the built commands: scripts/regenerate-docs.sh
/// writes them, and these tests fail when a command gains, loses or renames an option, an
/// operand or a subcommand the page does not show, when a page's hand-maintained sections
/// differ from man/sections/<command>.mdoc, or when mandoc finds fault with a page.
@Suite struct ManualTests {
    static let commands = ["stmfd", "stmfadm", "sbdadm", "fcinfo", "fcadm", "fcfabric", "fcinit"]
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// What a command says of itself (`--experimental-dump-help`), the part the page shows.
    struct Dump: Decodable {
        struct Name: Decodable { var kind: String; var name: String }
        struct Argument: Decodable {
            var kind: String
            var names: [Name]?
            var valueName: String?
            var shouldDisplay: Bool
        }
        struct Command: Decodable {
            var commandName: String
            var arguments: [Argument]?
            var subcommands: [Command]?
        }
        var command: Command
    }

    /// One command as a page describes it: the options, operands and subcommands listed in
    /// its part of DESCRIPTION.
    final class PageCommand {
        let name: String
        var options = Set<String>()
        var operands = Set<String>()
        var subcommands: [PageCommand] = []
        init(_ name: String) { self.name = name }
    }

    static func page(_ command: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent("man/man8/\(command).8"), encoding: .utf8)
    }

    static func dump(_ command: String) throws -> Dump.Command {
        let r = try runTool(command, ["--experimental-dump-help"])
        #expect(r.status == 0, "\(command) --experimental-dump-help: \(r.err)")
        return try JSONDecoder().decode(Dump.self, from: Data(r.out.utf8)).command
    }

    /// The lines of section `title` (without its .Sh line).
    static func section(_ title: String, of page: String) -> [String]? {
        let lines = page.components(separatedBy: "\n")
        let heads = [".Sh \(title)", ".Sh \"\(title)\""]
        guard let start = lines.firstIndex(where: { heads.contains($0) }) else { return nil }
        let rest = lines[(start + 1)...]
        return Array(rest.prefix { !$0.hasPrefix(".Sh ") })
    }

    /// The tree of DESCRIPTION's lists as generate-manual writes it: `.It Em NAME` opens a
    /// subcommand whose items are in the next list; `.It Fl …` is an option, `.It Ar …` an
    /// operand of the command whose items are at that depth (value lists sit deeper).
    static func parse(_ page: String, root name: String) -> PageCommand {
        let top = PageCommand(name)
        var stack: [(node: PageCommand, depth: Int)] = [(top, 1)]
        var depth = 0
        for line in section("DESCRIPTION", of: page) ?? [] {
            if line.hasPrefix(".Bl") {
                depth += 1
            } else if line.hasPrefix(".El") {
                depth -= 1
                while stack.count > 1, let last = stack.last, last.depth > depth { stack.removeLast() }
            } else if line.hasPrefix(".It "), let current = stack.last, current.depth == depth {
                let words = line.dropFirst(4).split(separator: " ").map(String.init)
                switch words.first {
                case "Em":
                    // `.It Em "logical-unit, lu"`: the name before its aliases.
                    let label = words.dropFirst().joined(separator: " ").replacingOccurrences(of: "\"", with: "")
                    let sub = PageCommand(label.components(separatedBy: ",")[0])
                    current.node.subcommands.append(sub)
                    stack.append((sub, depth + 1))
                case "Fl":
                    // `.It Fl h , -help` / `.It Fl -lun Ar n`: the names up to the value.
                    for w in words.dropFirst().prefix(while: { $0 != "Ar" }) where w != "," && w != "Fl" {
                        current.node.options.insert("-" + w)
                    }
                case "Ar":
                    // `.It Ar lu-name...`, `.It Ar "OS Device Path..."`
                    let name = words.dropFirst().joined(separator: " ").replacingOccurrences(of: "\"", with: "")
                    current.node.operands.insert(name.replacingOccurrences(of: "...", with: ""))
                default: break
                }
            }
        }
        return top
    }

    /// Differences between a command's description of itself and the page's, as messages.
    static func compare(_ c: Dump.Command, _ p: PageCommand, path: String) -> [String] {
        var problems: [String] = []
        let shown = (c.arguments ?? []).filter(\.shouldDisplay)
        var options = Set<String>()
        var operands = Set<String>()
        for a in shown {
            if a.kind == "positional" {
                if let v = a.valueName { operands.insert(v) }
                continue
            }
            for n in a.names ?? [] { options.insert(n.kind == "long" ? "--\(n.name)" : "-\(n.name)") }
        }
        for o in options.subtracting(p.options).sorted() { problems.append("\(path): \(o) is not in the page") }
        for o in p.options.subtracting(options).sorted() { problems.append("\(path): the page shows \(o), which the command does not take") }
        for o in operands.subtracting(p.operands).sorted() { problems.append("\(path): operand <\(o)> is not in the page") }
        for o in p.operands.subtracting(operands).sorted() { problems.append("\(path): the page shows operand <\(o)>, which the command does not take") }
        // stmfd's only subcommand is ArgumentParser's own `help`, which its page leaves out.
        let subs = (c.subcommands ?? []).map(\.commandName) == ["help"] ? [] : (c.subcommands ?? [])
        for s in subs {
            guard let ps = p.subcommands.first(where: { $0.name == s.commandName }) else {
                problems.append("\(path): subcommand \(s.commandName) is not in the page")
                continue
            }
            problems += compare(s, ps, path: path + " " + s.commandName)
        }
        for ps in p.subcommands where !subs.contains(where: { $0.commandName == ps.name }) {
            problems.append("\(path): the page shows subcommand \(ps.name), which the command does not have")
        }
        return problems
    }

    @Test(arguments: commands)
    func pageListsWhatTheCommandTakes(_ command: String) throws {
        let page = try Self.page(command)
        let problems = Self.compare(try Self.dump(command), Self.parse(page, root: command), path: command)
        let list = problems.joined(separator: "\n")
        #expect(problems.isEmpty, "man/man8/\(command).8 is out of step with \(command) (run scripts/regenerate-docs.sh):\n\(list)")
    }

    @Test(arguments: commands)
    func pageHasTheSectionsOfAManual(_ command: String) throws {
        let page = try Self.page(command)
        var required = ["NAME", "SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
        if ["stmfadm", "sbdadm"].contains(command) { required.append("LOGICAL UNIT PROPERTIES") }
        for title in required {
            let body = Self.section(title, of: page)
            #expect(body != nil, "man/man8/\(command).8 has no \(title) section")
            #expect(body.map { $0.contains { !$0.isEmpty } } ?? true, "man/man8/\(command).8: \(title) is empty")
        }
        #expect(page.contains(".Dt \(command.uppercased()) 8\n"), "man/man8/\(command).8 is not a section 8 page")
    }

    /// The page is its generated part with man/sections/<command>.mdoc merged in as the
    /// regeneration script merges it: an edited fragment needs a regenerated page.
    @Test(arguments: commands)
    func pageCarriesItsFragment(_ command: String) throws {
        let page = try Self.page(command)
        let fragment = try String(contentsOf: Self.root.appendingPathComponent("man/sections/\(command).mdoc"), encoding: .utf8)
            .components(separatedBy: "\n").filter { !$0.hasPrefix(".\\\"") }
        let firstSection = fragment.firstIndex { $0.hasPrefix(".Sh ") } ?? fragment.count
        let prologue = fragment[..<firstSection].joined(separator: "\n")
        let sections = fragment[firstSection...].joined(separator: "\n")
        #expect(page.hasSuffix(sections),
                "man/man8/\(command).8 does not end with the sections of man/sections/\(command).mdoc (run scripts/regenerate-docs.sh)")
        #expect(page.contains(".Sh DESCRIPTION\n" + prologue),
                "man/man8/\(command).8 does not open DESCRIPTION with man/sections/\(command).mdoc's introduction (run scripts/regenerate-docs.sh)")
    }

    /// The exit status a page gives a usage error is the one the command exits with.
    @Test(arguments: commands)
    func usageStatusIsTheDocumentedOne(_ command: String) throws {
        let body = Self.section("EXIT STATUS", of: try Self.page(command)) ?? []
        // `.It N` items; the one whose text speaks of a usage error.
        var status: Int32?
        for (i, line) in body.enumerated() where line.hasPrefix(".It ") {
            guard let n = Int32(line.dropFirst(4)) else { continue }
            let text = body[(i + 1)...].prefix { !$0.hasPrefix(".It ") && !$0.hasPrefix(".El") }.joined(separator: " ")
            if text.lowercased().contains("usage error") { status = n }
        }
        let documented = try #require(status, "man/man8/\(command).8's EXIT STATUS has no item for a usage error")
        let r = try runTool(command, ["--no-such-option"])
        #expect(r.status == documented, "\(command) --no-such-option exits \(r.status); its page says \(documented)")
    }

    /// stmfadm's and sbdadm's LOGICAL UNIT PROPERTIES list exactly the disk provider's.
    @Test(arguments: ["stmfadm", "sbdadm"])
    func pageListsTheProvidersProperties(_ command: String) throws {
        let body = Self.section("LOGICAL UNIT PROPERTIES", of: try Self.page(command)) ?? []
        let listed = Set(body.filter { $0.hasPrefix(".It Cm ") }.map { String($0.dropFirst(7)) })
        let provider = Set(SBDProvider().properties.map(\.name))
        #expect(listed == provider, """
            man/man8/\(command).8 lists properties \(listed.sorted()); the sbd provider takes \(provider.sorted()) \
            (edit man/sections/\(command).mdoc and run scripts/regenerate-docs.sh)
            """)
    }

    /// Every variable a page's ENVIRONMENT names is one the sources read or set.
    @Test(arguments: commands)
    func environmentNamesRealVariables(_ command: String) throws {
        let body = Self.section("ENVIRONMENT", of: try Self.page(command)) ?? []
        var names: [String] = []
        for line in body where line.hasPrefix(".It Ev ") {
            for word in line.dropFirst(7).split(separator: " ") where word != "," && word != "..." { names.append(String(word)) }
        }
        #expect(!names.isEmpty, "man/man8/\(command).8's ENVIRONMENT names no variable")
        var sources = ""
        for dir in ["Sources", "CModules"] {
            let e = FileManager.default.enumerator(atPath: Self.root.appendingPathComponent(dir).path)
            while let f = e?.nextObject() as? String {
                guard f.hasSuffix(".swift") || f.hasSuffix(".c") || f.hasSuffix(".h") else { continue }
                sources += (try? String(contentsOfFile: Self.root.appendingPathComponent(dir + "/" + f).path, encoding: .utf8)) ?? ""
            }
        }
        for name in names {
            // FCINIT_DEVICE_1 is FCINIT_DEVICE's second path; HOME is getenv("HOME").
            let base = name.replacingOccurrences(of: "_1", with: "")
            #expect(sources.contains("\"\(base)\"") || sources.contains("\"\(name)\""),
                    "man/man8/\(command).8 names $\(name), which no source reads or sets")
        }
    }

    /// The committed shell completions are what the commands generate now.
    @Test(arguments: ["stmfadm", "sbdadm", "fcinfo", "fcadm"])
    func completionsAreCurrent(_ command: String) throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try runTool(command, ["--generate-completion-script", shell])
            let committed = try String(contentsOf: Self.root.appendingPathComponent("completions/\(command).\(shell)"), encoding: .utf8)
            #expect(r.status == 0 && r.out == committed, "completions/\(command).\(shell) is out of step (run scripts/regenerate-docs.sh)")
        }
    }

    /// mandoc's checker (scripts/install-deps.sh installs it) finds nothing to warn about.
    @Test(arguments: commands)
    func mandocFindsNoFault(_ command: String) throws {
        let mandoc = "/usr/bin/mandoc"
        try #require(FileManager.default.isExecutableFile(atPath: mandoc), "mandoc is missing: run scripts/install-deps.sh")
        let r = try runTool(mandoc, ["-T", "lint", "-W", "warning", Self.root.appendingPathComponent("man/man8/\(command).8").path])
        #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "mandoc -T lint -W warning man/man8/\(command).8:\n\(r.out)\(r.err)")
    }
}
