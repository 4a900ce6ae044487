import ArgumentParser
import CLISupport
import Foundation
import STMF
import STMFAPI
import STMFClient

/// stmfadm: the COMSTAR SCSI target administration command. Options, operands, messages and
/// exit statuses follow illumos' stmfadm: a command that takes several operands acts on each
/// on its own and exits with the number that failed; a usage error exits 1.
public struct Stmfadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stmfadm",
        abstract: "Manage SCSI target logical units, host and target groups, views and targets.",
        discussion: """
            Every command talks to stmfd over its API socket in the state directory \
            (--state-dir, $STMF_STATE_DIR, /var/lib/stmf). Options may come before or after \
            the subcommand; -V prints the version.
            """,
        subcommands: [
            CreateLU.self, ModifyLU.self, ImportLU.self, DeleteLU.self, ListLU.self,
            OnlineLU.self, OfflineLU.self,
            CreateHG.self, DeleteHG.self, AddHGMember.self, RemoveHGMember.self, ListHG.self,
            CreateTG.self, DeleteTG.self, AddTGMember.self, RemoveTGMember.self, ListTG.self,
            AddView.self, RemoveView.self, ListView.self,
            ListTarget.self, OnlineTarget.self, OfflineTarget.self, ListState.self,
            Export.self, Import.self, ListBackups.self, Restore.self,
        ])
    public init() {}

    /// illumos cmdparse's behaviour: -V, usage errors exit 1, options before the subcommand.
    public static func main() { CommandLineRunner.main(Self.self) }

    // MARK: Logical units

    struct CreateLU: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-lu", abstract: "Create a disk logical unit backed by FILE (a file, block device, or ram:NAME).",
            discussion: """
                Properties (-p, --lu-prop): alias, blk (block size, a power of two), guid (32 hex \
                digits, NAA type 6), host-id (8 hex digits: the host id a generated GUID carries), \
                meta (a separate metadata file), mgmt-url, oui (6 hex digits), pid (up to 16 \
                characters), rev, serial (up to 252 characters), vid (up to 8 characters), wcd \
                (write cache disabled: true/false), wp (write protect: true/false). \
                -p provider=sg exports an existing SCSI device instead (FILE: /dev/sgN, /dev/sdX, \
                /dev/st0, /dev/disk/by-id/...): commands pass through to it, while reservations, \
                REPORT LUNS, port identities and port groups stay STMF's; it takes alias only.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("lu-prop")], help: ArgumentHelp("Property name=value. Repeatable.", valueName: "logical-unit-property=value"),
                completion: Completions.properties)
        var p: [String] = []
        @Option(name: [.short, .customLong("size")], help: ArgumentHelp("Size, with an optional k/m/g/t/p/e suffix.", valueName: "size"))
        var s: String?
        @Flag(help: "Write the LU's metadata over a file or device that holds other data (refused without it).")
        var overwrite = false
        @Argument(help: ArgumentHelp("Backing file, block device, or ram:NAME.", valueName: "lu-file"), completion: .file())
        var file: String

        func run() throws {
            // The provider (sbd unless the request names another) checks the properties.
            var props = try parseProperties(p)
            if let s { props[LUPropertyName.size] = try parseSize(s) }
            // -p provider=NAME picks the LU provider (sg: an existing SCSI device passed through).
            let provider = props.removeValue(forKey: "provider") ?? defaultLUProvider
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus", body: CreateLURequest(provider: provider, file: file, properties: props,
                                                                                 overwrite: overwrite ? true : nil), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print("Logical unit created: \(info.guid)") }
        }
    }

    struct ModifyLU: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "modify-lu", abstract: "Modify a logical unit's properties or grow its size.",
            discussion: """
                Properties (-p, --lu-prop): alias, mgmt-url, wcd (true/false), wp (true/false). \
                -f makes the operand the LU's backing file (or meta file) instead of its name: an \
                LU stmfd has is changed live, one it does not have (not imported yet) is changed \
                in its metadata.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("lu-prop")], help: ArgumentHelp("Property name=value. Repeatable.", valueName: "logical-unit-property=value"),
                completion: Completions.properties)
        var p: [String] = []
        @Option(name: [.short, .customLong("size")], help: ArgumentHelp("New size, with an optional k/m/g/t/p/e suffix.", valueName: "size"))
        var s: String?
        @Flag(name: [.short, .customLong("file")], help: "The operand is the LU's file, not its name.") var f = false
        @Argument(help: ArgumentHelp("Logical unit GUID (or with -f its file).", valueName: "lu-name"), completion: Completions.guids)
        var lu: String

        func run() throws {
            // The LU's provider says which properties it can change and checks their values.
            var properties = try parseProperties(p)
            if let s { properties[LUPropertyName.size] = try parseSize(s) }
            let info: LUInfo
            if f {
                info = try api { () throws(APIClient.Failure) in
                    try global.client.call("POST", "/v1/lus/modify-file", body: ModifyLUFileRequest(file: lu, properties: properties),
                                           as: LUInfo.self)
                }
            } else {
                let guid = try requireGUID(lu)
                info = try api { () throws(APIClient.Failure) in
                    try global.client.call("PATCH", "/v1/lus/\(guid)", body: ModifyLURequest(properties: properties), as: LUInfo.self)
                }
            }
            if global.json { printJSON(info) }
        }
    }

    struct ImportLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-lu", abstract: "Bring back a logical unit from its backing file's metadata.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Backing file or device (or the separate meta file).", valueName: "file-name"), completion: .file())
        var file: String
        func run() throws {
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/import", body: ImportLURequest(file: file), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print("Logical unit imported: \(info.guid)") }
        }
    }

    struct DeleteLU: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-lu", abstract: "Delete logical units (their data and metadata stay in the backing store).",
            discussion: "Each logical unit is deleted on its own; the exit status is the number that could not be.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("keep-views")], help: "Keep the logical units' view entries.") var k = false
        @Argument(help: ArgumentHelp("Logical unit GUIDs.", valueName: "lu-name"), completion: Completions.guids)
        var lus: [String]
        func validate() throws { if lus.isEmpty { throw ValidationError("Missing expected argument '<lu-name> ...'") } }
        func run() throws {
            var failures = OperandFailures()
            for lu in lus {
                guard let guid = guidOperand(lu) else { failures.report(Wording.invalidGUID(lu)); continue }
                failures.api { () throws(APIClient.Failure) in
                    try global.client.call("DELETE", "/v1/lus/\(guid)\(k ? "?keepViews=1" : "")", as: EmptyResponse.self)
                }
            }
            try failures.finish()
        }
    }

    struct ListLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-lu", abstract: "List logical units.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("verbose")], help: "Verbose: every property.") var v = false
        @Argument(help: ArgumentHelp("Logical unit GUIDs (default: all).", valueName: "lu-name"), completion: Completions.guids)
        var lus: [String] = []
        func run() throws {
            let all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/lus", as: [LUInfo].self) }
            let (shown, notFound) = select(all, lus, why: { guidOperand($0) == nil ? Wording.invalidGUID($0) : "\($0): not found" }) { op in
                guidOperand(op).flatMap { g in all.first { $0.guid == g } }
            }
            if global.json {
                printJSON(shown)
            } else {
                for lu in shown {
                    print("LU Name: \(lu.guid)")
                    if v { print(Layout.luVerbose(lu), terminator: "") }
                }
            }
            if notFound { throw ExitCode(1) }
        }
    }

    struct OnlineLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "online-lu", abstract: "Bring a logical unit online.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Logical unit GUID.", valueName: "lu-name"), completion: Completions.guids) var lu: String
        func run() throws {
            let guid = try requireGUID(lu)
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/lus/\(guid)/online", as: EmptyResponse.self) }
        }
    }

    struct OfflineLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "offline-lu", abstract: "Take a logical unit offline.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Logical unit GUID.", valueName: "lu-name"), completion: Completions.guids) var lu: String
        func run() throws {
            let guid = try requireGUID(lu)
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/lus/\(guid)/offline", as: EmptyResponse.self) }
        }
    }

    // MARK: Groups

    struct CreateHG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-hg", abstract: "Create a host group.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The new group's name.", valueName: "group-name")) var group: String
        func run() throws { try createGroup(global, "host-groups", group) }
    }
    struct DeleteHG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-hg", abstract: "Delete a host group.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Host group.", valueName: "group-name"), completion: Completions.hostGroups) var group: String
        func run() throws { try deleteGroup(global, "host-groups", group) }
    }
    struct AddHGMember: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-hg-member", abstract: "Add initiator ports (wwn.X, iqn.X, eui.X) to a host group.",
            discussion: "Each member is added on its own; the exit status is the number that could not be.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("group-name")], help: ArgumentHelp("Host group.", valueName: "group-name"),
                completion: Completions.hostGroups) var g: String
        @Argument(help: ArgumentHelp("Initiator port names.", valueName: "group-member"), completion: Completions.initiators)
        var members: [String]
        func validate() throws { if members.isEmpty { throw ValidationError("Missing expected argument '<group-member> ...'") } }
        func run() throws { try changeMembers(global, "host-groups", g, members, add: true) }
    }
    struct RemoveHGMember: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-hg-member", abstract: "Remove initiator ports from a host group.",
            discussion: "Each member is removed on its own; the exit status is the number that could not be.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("group-name")], help: ArgumentHelp("Host group.", valueName: "group-name"),
                completion: Completions.hostGroups) var g: String
        @Argument(help: ArgumentHelp("Initiator port names.", valueName: "group-member"), completion: Completions.initiators)
        var members: [String]
        func validate() throws { if members.isEmpty { throw ValidationError("Missing expected argument '<group-member> ...'") } }
        func run() throws { try changeMembers(global, "host-groups", g, members, add: false) }
    }
    struct ListHG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-hg", abstract: "List host groups.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("verbose")], help: "Verbose: list members.") var v = false
        @Argument(help: ArgumentHelp("Host groups (default: all).", valueName: "group-name"), completion: Completions.hostGroups)
        var groups: [String] = []
        func run() throws { try listGroups(global, "host-groups", "Host Group", groups, verbose: v) }
    }
    struct CreateTG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-tg", abstract: "Create a target group.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The new group's name.", valueName: "group-name")) var group: String
        func run() throws { try createGroup(global, "target-groups", group) }
    }
    struct DeleteTG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-tg", abstract: "Delete a target group.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Target group.", valueName: "group-name"), completion: Completions.targetGroups) var group: String
        func run() throws { try deleteGroup(global, "target-groups", group) }
    }
    struct AddTGMember: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-tg-member", abstract: "Add target ports to a target group (targets must be offline).",
            discussion: "Each member is added on its own; the exit status is the number that could not be.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("group-name")], help: ArgumentHelp("Target group.", valueName: "group-name"),
                completion: Completions.targetGroups) var g: String
        @Argument(help: ArgumentHelp("Target port names.", valueName: "group-member"), completion: Completions.targetPorts)
        var members: [String]
        func validate() throws { if members.isEmpty { throw ValidationError("Missing expected argument '<group-member> ...'") } }
        func run() throws { try changeMembers(global, "target-groups", g, members, add: true) }
    }
    struct RemoveTGMember: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-tg-member", abstract: "Remove target ports from a target group (targets must be offline).",
            discussion: "Each member is removed on its own; the exit status is the number that could not be.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("group-name")], help: ArgumentHelp("Target group.", valueName: "group-name"),
                completion: Completions.targetGroups) var g: String
        @Argument(help: ArgumentHelp("Target port names.", valueName: "group-member"), completion: Completions.targetPorts)
        var members: [String]
        func validate() throws { if members.isEmpty { throw ValidationError("Missing expected argument '<group-member> ...'") } }
        func run() throws { try changeMembers(global, "target-groups", g, members, add: false) }
    }
    struct ListTG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-tg", abstract: "List target groups.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("verbose")], help: "Verbose: list members.") var v = false
        @Argument(help: ArgumentHelp("Target groups (default: all).", valueName: "group-name"), completion: Completions.targetGroups)
        var groups: [String] = []
        func run() throws { try listGroups(global, "target-groups", "Target Group", groups, verbose: v) }
    }

    // MARK: Views

    struct AddView: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-view", abstract: "Make a logical unit visible to a host group through a target group.",
            discussion: """
                A view entry is a logical unit number, a target group and a host group; together \
                they make the logical unit visible to a SCSI initiator, which finds it with REPORT LUNS.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("lun")], help: ArgumentHelp("Logical unit number (0-16383); default: the lowest free.",
                                                                       valueName: "logical-unit-number"))
        var n: String?
        @Option(name: [.short, .customLong("target-group")], help: ArgumentHelp("Target group (default: all targets).", valueName: "group-name"),
                completion: Completions.targetGroups) var t: String?
        @Option(name: [.customShort("h"), .customLong("host-group")], help: ArgumentHelp("Host group (default: all hosts).", valueName: "group-name"),
                completion: Completions.hostGroups) var hostGroup: String?
        @Argument(help: ArgumentHelp("Logical unit GUID.", valueName: "lu-name"), completion: Completions.guids) var lu: String
        func run() throws {
            let guid = try requireGUID(lu)
            let lun = try n.map { (text: String) throws -> Int in
                guard let v = Int(text) else { try fail(Wording.notANumber(text, "logical unit number")) }
                guard (0...16383).contains(v) else { try fail(Wording.lunOutOfRange(text)) }
                return v
            }
            let e = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/\(guid)/views", body: AddViewRequest(hostGroup: hostGroup, targetGroup: t, lun: lun),
                                       as: ViewEntryInfo.self)
            }
            if global.json { printJSON(e) }
        }
    }

    struct RemoveView: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-view", abstract: "Remove view entries of a logical unit.",
            discussion: "Each entry is removed on its own; the exit status is the number that could not be.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("lu-name")], help: ArgumentHelp("Logical unit GUID.", valueName: "LU-Name"),
                completion: Completions.guids) var l: String
        @Flag(name: [.short, .customLong("all")], help: "Remove all view entries of the logical unit.") var a = false
        @Argument(help: ArgumentHelp("View entry numbers.", valueName: "view-entry-number")) var entries: [String] = []
        func validate() throws {
            if !a && entries.isEmpty { throw ValidationError("no view entries specified") }
            if a && !entries.isEmpty { throw ValidationError("give view entry numbers or -a (not both)") }
        }
        func run() throws {
            let guid = try requireGUID(l)
            if a {
                _ = try api { () throws(APIClient.Failure) in
                    try global.client.call("POST", "/v1/lus/\(guid)/views/remove", body: RemoveViewsRequest(all: true), as: EmptyResponse.self)
                }
                return
            }
            var failures = OperandFailures()
            for e in entries {
                guard let n = UInt32(e) else {
                    failures.report(e.hasPrefix("-") ? Wording.negative(e, "view entry number") : Wording.notANumber(e, "view entry number"))
                    continue
                }
                failures.api { () throws(APIClient.Failure) in
                    try global.client.call("POST", "/v1/lus/\(guid)/views/remove", body: RemoveViewsRequest(entries: [n]), as: EmptyResponse.self)
                }
            }
            try failures.finish()
        }
    }

    struct ListView: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-view", abstract: "List view entries of a logical unit.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("lu-name")], help: ArgumentHelp("Logical unit GUID.", valueName: "LU-Name"),
                completion: Completions.guids) var l: String
        @Argument(help: ArgumentHelp("View entry numbers (default: all).", valueName: "view-entry-number")) var entries: [String] = []
        func run() throws {
            let guid = try requireGUID(l)
            let views = try api { () throws(APIClient.Failure) in
                try global.client.call("GET", "/v1/lus/\(guid)/views", as: [ViewEntryInfo].self)
            }
            let (shown, notFound) = select(views, entries, why: { "\(guid): view entry \($0) not found" }) { e in
                UInt32(e).flatMap { n in views.first { $0.entry == n } }
            }
            if global.json { printJSON(shown) } else { for v in shown { print(Layout.view(v), terminator: "") } }
            if notFound { throw ExitCode(1) }
        }
    }

    // MARK: Targets and state

    struct ListTarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-target", abstract: "List local target ports.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("verbose")], help: "Verbose: status and sessions.") var v = false
        @Argument(help: ArgumentHelp("Target port names (default: all).", valueName: "target-name"), completion: Completions.targets)
        var targets: [String] = []
        func run() throws {
            let all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/targets", as: [TargetInfo].self) }
            let (shown, notFound) = select(all, targets) { t in
                (try? PortIdentifier(parsing: t).description).flatMap { name in all.first { $0.name == name } }
            }
            if global.json { printJSON(shown) } else { for t in shown { print(Layout.target(t, verbose: v), terminator: "") } }
            if notFound { throw ExitCode(1) }
        }
    }

    struct OnlineTarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "online-target", abstract: "Bring a target port online.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Target port name.", valueName: "target-name"), completion: Completions.targets) var target: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/targets/\(seg(target))/online", as: EmptyResponse.self) }
        }
    }

    struct OfflineTarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "offline-target", abstract: "Take a target port offline.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Target port name.", valueName: "target-name"), completion: Completions.targets) var target: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/targets/\(seg(target))/offline", as: EmptyResponse.self) }
        }
    }

    struct ListState: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-state", abstract: "Show the state of the SCSI target service.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let s = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/state", as: ServiceState.self) }
            if global.json { printJSON(s); return }
            print("Operational Status: \(s.operationalStatus)")
            print("Config Status     : \(s.configStatus)")
            print("ALUA Status       : \(s.aluaStatus)")
            print("ALUA Node         : \(s.aluaNode)")
            if let io = s.ioEngine {
                print("I/O Engine        : \(io)\(s.ioEngineNote.map { " (\($0))" } ?? "")")
            }
        }
    }
}

func createGroup(_ g: GlobalOptions, _ kind: String, _ name: String) throws {
    _ = try api { () throws(APIClient.Failure) in try g.client.call("POST", "/v1/\(kind)", body: CreateGroupRequest(name: name), as: GroupInfo.self) }
}

func deleteGroup(_ g: GlobalOptions, _ kind: String, _ name: String) throws {
    _ = try api { () throws(APIClient.Failure) in try g.client.call("DELETE", "/v1/\(kind)/\(seg(name))", as: EmptyResponse.self) }
}

/// add-hg-member / remove-hg-member / add-tg-member / remove-tg-member: each member on its own.
func changeMembers(_ g: GlobalOptions, _ kind: String, _ name: String, _ members: [String], add: Bool) throws {
    var failures = OperandFailures()
    for m in members {
        failures.api { () throws(APIClient.Failure) in
            try g.client.call("POST", "/v1/\(kind)/\(seg(name))/members\(add ? "" : "/remove")", body: GroupMemberRequest(members: [m]),
                              as: EmptyResponse.self)
        }
    }
    try failures.finish()
}

func listGroups(_ g: GlobalOptions, _ kind: String, _ title: String, _ names: [String], verbose: Bool) throws {
    let all = try api { () throws(APIClient.Failure) in try g.client.call("GET", "/v1/\(kind)", as: [GroupInfo].self) }
    let (shown, notFound) = select(all, names) { n in all.first { $0.name == n } }
    if g.json {
        printJSON(shown)
    } else {
        for grp in shown {
            print("\(title): \(grp.name)")
            if verbose { for m in grp.members { print("        Member: \(m)") } }
        }
    }
    if notFound { throw ExitCode(1) }
}
