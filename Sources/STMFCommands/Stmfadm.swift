import ArgumentParser
import Foundation
import STMF
import STMFAPI
import STMFClient

/// stmfadm: the COMSTAR SCSI target administration command.
public struct Stmfadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stmfadm",
        abstract: "Manage SCSI target logical units, host and target groups, views and targets.",
        subcommands: [
            CreateLU.self, ModifyLU.self, ImportLU.self, DeleteLU.self, ListLU.self,
            OnlineLU.self, OfflineLU.self,
            CreateHG.self, DeleteHG.self, AddHGMember.self, RemoveHGMember.self, ListHG.self,
            CreateTG.self, DeleteTG.self, AddTGMember.self, RemoveTGMember.self, ListTG.self,
            AddView.self, RemoveView.self, ListView.self,
            ListTarget.self, OnlineTarget.self, OfflineTarget.self, ListState.self,
            Export.self, Import.self,
        ])
    public init() {}

    // MARK: Logical units

    struct CreateLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-lu", abstract: "Create a disk logical unit backed by FILE (a file, block device, or ram:NAME).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Property name=value (alias, blk, guid, mgmt-url, oui, pid, serial, vid, wcd, wp, meta, rev). Repeatable.")
        var p: [String] = []
        @Option(name: .short, help: "Size, with optional k/m/g/t suffix.")
        var s: String?
        @Flag(help: "Write the LU's metadata over a file or device that holds other data (refused without it).")
        var overwrite = false
        @Argument(help: "Backing file, block device, or ram:NAME.") var file: String

        func run() throws {
            // The provider (sbd unless the request names another) checks the properties.
            var props = try parseProperties(p)
            if let s { props[LUPropertyName.size] = s }
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus", body: CreateLURequest(file: file, properties: props,
                                                                                 overwrite: overwrite ? true : nil), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print("Logical unit created: \(info.guid)") }
        }
    }

    struct ModifyLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "modify-lu", abstract: "Modify a logical unit's properties or grow its size.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Property name=value (alias, mgmt-url, wcd, wp). Repeatable.") var p: [String] = []
        @Option(name: .short, help: "New size, with optional k/m/g/t suffix.") var s: String?
        @Argument(help: "Logical unit GUID.") var lu: String

        func run() throws {
            // The LU's provider says which properties it can change and checks their values.
            var req = ModifyLURequest(properties: try parseProperties(p))
            if let s { req.properties[LUPropertyName.size] = try parseSize(s) }
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("PATCH", "/v1/lus/\(seg(lu))", body: req, as: LUInfo.self)
            }
            if global.json { printJSON(info) }
        }
    }

    struct ImportLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-lu", abstract: "Bring back a logical unit from its backing file's metadata.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Backing file or device (or the separate meta file).") var file: String
        func run() throws {
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/import", body: ImportLURequest(file: file), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print("Logical unit imported: \(info.guid)") }
        }
    }

    struct DeleteLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-lu", abstract: "Delete a logical unit (its data and metadata stay in the backing store).")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Keep the logical unit's view entries.") var k = false
        @Argument(help: "Logical unit GUID.") var lu: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/lus/\(seg(lu))\(k ? "?keepViews=1" : "")", as: EmptyResponse.self)
            }
        }
    }

    struct ListLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-lu", abstract: "List logical units.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Verbose.") var v = false
        @Argument(help: "Logical unit GUIDs (default: all).") var lus: [String] = []
        func run() throws {
            var all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/lus", as: [LUInfo].self) }
            if !lus.isEmpty {
                let wanted = Set(lus.map { $0.uppercased() })
                for w in wanted where !all.contains(where: { $0.guid == w }) { try fail("\(w): not found") }
                all = all.filter { wanted.contains($0.guid) }
            }
            if global.json { printJSON(all); return }
            for lu in all {
                print("LU Name: \(lu.guid)")
                guard v else { continue }
                print(Layout.luVerbose(lu), terminator: "")
            }
        }
    }

    struct OnlineLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "online-lu", abstract: "Bring a logical unit online.")
        @OptionGroup var global: GlobalOptions
        @Argument var lu: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/lus/\(seg(lu))/online", as: EmptyResponse.self) }
        }
    }

    struct OfflineLU: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "offline-lu", abstract: "Take a logical unit offline.")
        @OptionGroup var global: GlobalOptions
        @Argument var lu: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/lus/\(seg(lu))/offline", as: EmptyResponse.self) }
        }
    }

    // MARK: Groups

    struct CreateHG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-hg", abstract: "Create a host group.")
        @OptionGroup var global: GlobalOptions
        @Argument var group: String
        func run() throws { try createGroup(global, "host-groups", group) }
    }
    struct DeleteHG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-hg", abstract: "Delete a host group.")
        @OptionGroup var global: GlobalOptions
        @Argument var group: String
        func run() throws { try deleteGroup(global, "host-groups", group) }
    }
    struct AddHGMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-hg-member", abstract: "Add initiator ports (wwn.…, iqn.…, eui.…) to a host group.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Host group.") var g: String
        @Argument var members: [String]
        func run() throws { try changeMembers(global, "host-groups", g, members, add: true) }
    }
    struct RemoveHGMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-hg-member", abstract: "Remove initiator ports from a host group.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Host group.") var g: String
        @Argument var members: [String]
        func run() throws { try changeMembers(global, "host-groups", g, members, add: false) }
    }
    struct ListHG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-hg", abstract: "List host groups.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Verbose: list members.") var v = false
        @Argument var groups: [String] = []
        func run() throws { try listGroups(global, "host-groups", "Host Group", groups, verbose: v) }
    }
    struct CreateTG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-tg", abstract: "Create a target group.")
        @OptionGroup var global: GlobalOptions
        @Argument var group: String
        func run() throws { try createGroup(global, "target-groups", group) }
    }
    struct DeleteTG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-tg", abstract: "Delete a target group.")
        @OptionGroup var global: GlobalOptions
        @Argument var group: String
        func run() throws { try deleteGroup(global, "target-groups", group) }
    }
    struct AddTGMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-tg-member", abstract: "Add target ports to a target group (targets must be offline).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Target group.") var g: String
        @Argument var members: [String]
        func run() throws { try changeMembers(global, "target-groups", g, members, add: true) }
    }
    struct RemoveTGMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-tg-member", abstract: "Remove target ports from a target group (targets must be offline).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Target group.") var g: String
        @Argument var members: [String]
        func run() throws { try changeMembers(global, "target-groups", g, members, add: false) }
    }
    struct ListTG: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-tg", abstract: "List target groups.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Verbose: list members.") var v = false
        @Argument var groups: [String] = []
        func run() throws { try listGroups(global, "target-groups", "Target Group", groups, verbose: v) }
    }

    // MARK: Views

    struct AddView: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-view", abstract: "Make a logical unit visible to a host group through a target group.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Logical unit number (0-16383); default: lowest free.") var n: Int?
        @Option(name: .short, help: "Target group (default: all targets).") var t: String?
        @Option(name: .customShort("h"), help: "Host group (default: all hosts).") var hostGroup: String?
        @Argument var lu: String
        func run() throws {
            let e = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/\(seg(lu))/views", body: AddViewRequest(hostGroup: hostGroup, targetGroup: t, lun: n), as: ViewEntryInfo.self)
            }
            if global.json { printJSON(e) }
        }
    }

    struct RemoveView: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-view", abstract: "Remove view entries of a logical unit.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Logical unit GUID.") var l: String
        @Flag(name: .short, help: "Remove all view entries of the logical unit.") var a = false
        @Argument var entries: [UInt32] = []
        func validate() throws {
            if a == !entries.isEmpty { throw ValidationError("give view entry numbers or -a (not both)") }
        }
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/\(seg(l))/views/remove", body: RemoveViewsRequest(all: a, entries: entries), as: EmptyResponse.self)
            }
        }
    }

    struct ListView: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-view", abstract: "List view entries of a logical unit.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Logical unit GUID.") var l: String
        @Argument var entries: [UInt32] = []
        func run() throws {
            var views = try api { () throws(APIClient.Failure) in
                try global.client.call("GET", "/v1/lus/\(seg(l))/views", as: [ViewEntryInfo].self)
            }
            if !entries.isEmpty {
                for e in entries where !views.contains(where: { $0.entry == e }) { try fail("\(l): view entry \(e) not found") }
                views = views.filter { entries.contains($0.entry) }
            }
            if global.json { printJSON(views); return }
            for v in views { print(Layout.view(v), terminator: "") }
        }
    }

    // MARK: Targets and state

    struct ListTarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-target", abstract: "List local target ports.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Verbose: status and sessions.") var v = false
        @Argument var targets: [String] = []
        func run() throws {
            var all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/targets", as: [TargetInfo].self) }
            if !targets.isEmpty {
                let wanted = try targets.map { (t: String) throws -> String in
                    do { return try PortIdentifier(parsing: t).description } catch { try fail("\(error)") }
                }
                for w in wanted where !all.contains(where: { $0.name == w }) { try fail("\(w): target not found") }
                all = all.filter { wanted.contains($0.name) }
            }
            if global.json { printJSON(all); return }
            for t in all { print(Layout.target(t, verbose: v), terminator: "") }
        }
    }

    struct OnlineTarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "online-target", abstract: "Bring a target port online.")
        @OptionGroup var global: GlobalOptions
        @Argument var target: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in try global.client.call("POST", "/v1/targets/\(seg(target))/online", as: EmptyResponse.self) }
        }
    }

    struct OfflineTarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "offline-target", abstract: "Take a target port offline.")
        @OptionGroup var global: GlobalOptions
        @Argument var target: String
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

    // MARK: Export / import

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the whole configuration as a versioned, checksummed document.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Output file (default: standard output).") var file: String?
        func run() throws {
            let bytes = try api { () throws(APIClient.Failure) in try global.client.send("GET", "/v1/export", nil) }
            if let file {
                let tmp = file + ".tmp.\(getpid())"
                do {
                    try Data(bytes).write(to: URL(fileURLWithPath: tmp))
                    let fd = open(tmp, O_RDONLY)
                    if fd >= 0 { fsync(fd); close(fd) }
                    guard rename(tmp, file) == 0 else { throw CommandFailure(message: String(cString: strerror(errno))) }
                } catch {
                    unlink(tmp)
                    try fail("\(file): cannot write export: \(error)")
                }
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Apply an exported configuration (all or nothing).")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .customLong("replace"), help: "Replace the current configuration (otherwise the service must be empty).")
        var replace = false
        @Argument var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { try fail("\(file): cannot read") }
            _ = try api { () throws(APIClient.Failure) in
                try global.client.send("POST", "/v1/import\(replace ? "?replace=1" : "")", Array(data), contentType: "application/octet-stream")
            }
        }
    }
}

/// `-s`: a size with an optional k/m/g/t suffix, in bytes.
func parseSize(_ s: String) throws -> String {
    guard let v = LUPropertyName.parseSize(s) else { try fail("\(s): invalid size") }
    return String(v)
}

func createGroup(_ g: GlobalOptions, _ kind: String, _ name: String) throws {
    _ = try api { () throws(APIClient.Failure) in try g.client.call("POST", "/v1/\(kind)", body: CreateGroupRequest(name: name), as: GroupInfo.self) }
}

func deleteGroup(_ g: GlobalOptions, _ kind: String, _ name: String) throws {
    _ = try api { () throws(APIClient.Failure) in try g.client.call("DELETE", "/v1/\(kind)/\(seg(name))", as: EmptyResponse.self) }
}

func changeMembers(_ g: GlobalOptions, _ kind: String, _ name: String, _ members: [String], add: Bool) throws {
    _ = try api { () throws(APIClient.Failure) in
        try g.client.call("POST", "/v1/\(kind)/\(seg(name))/members\(add ? "" : "/remove")", body: GroupMemberRequest(members: members), as: EmptyResponse.self)
    }
}

func listGroups(_ g: GlobalOptions, _ kind: String, _ title: String, _ names: [String], verbose: Bool) throws {
    var all = try api { () throws(APIClient.Failure) in try g.client.call("GET", "/v1/\(kind)", as: [GroupInfo].self) }
    if !names.isEmpty {
        for n in names where !all.contains(where: { $0.name == n }) { try fail("\(n): not found") }
        all = all.filter { names.contains($0.name) }
    }
    if g.json { printJSON(all); return }
    for grp in all {
        print("\(title): \(grp.name)")
        if verbose { for m in grp.members { print("        Member: \(m)") } }
    }
}
