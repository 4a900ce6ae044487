import ArgumentParser
import Foundation
import STMF
import STMFAPI
import STMFClient

/// sbdadm: the SCSI block disk command of illumos, over the same service.
public struct Sbdadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sbdadm",
        abstract: "Manage SCSI block disk logical units.",
        subcommands: [Create.self, Delete.self, Import.self, List.self, Modify.self])
    public init() {}

    static func table(_ lus: [LUInfo], header: String) -> String {
        var s = "\(header)\n\n"
        s += "              GUID                    DATA SIZE           SOURCE\n"
        s += "--------------------------------  -------------------  ----------------\n"
        for lu in lus {
            s += lu.guid + "  " + String(lu.size).padding(toLength: 19, withPad: " ", startingAt: 0) + "  " + lu.dataFile + "\n"
        }
        return s
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-lu", abstract: "Create a logical unit on FILE.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Size, with optional k/m/g/t suffix.") var s: String?
        @Flag(help: "Write the LU's metadata over a file or device that holds other data (refused without it).")
        var overwrite = false
        @Argument var file: String
        func run() throws {
            var props: [String: String] = [:]
            if let s { props[LUPropertyName.size] = try parseSize(s) }
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus", body: CreateLURequest(file: file, properties: props,
                                                                                 overwrite: overwrite ? true : nil), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print(Sbdadm.table([info], header: "Created the following LU:"), terminator: "") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-lu", abstract: "Delete a logical unit (its views too).")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Accepted for compatibility (the LU is always taken offline first).") var f = false
        @Argument var lu: String
        func run() throws {
            _ = try api { () throws(APIClient.Failure) in try global.client.call("DELETE", "/v1/lus/\(seg(lu))", as: EmptyResponse.self) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-lu", abstract: "Import a logical unit from FILE's metadata.")
        @OptionGroup var global: GlobalOptions
        @Argument var file: String
        func run() throws {
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/import", body: ImportLURequest(file: file), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print(Sbdadm.table([info], header: "Imported the following LU:"), terminator: "") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-lu", abstract: "List logical units.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/lus", as: [LUInfo].self) }
            if global.json { printJSON(all) } else { print(Sbdadm.table(all, header: "Found \(all.count) LU(s)"), terminator: "") }
        }
    }

    struct Modify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "modify-lu", abstract: "Grow a logical unit.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "New size, with optional k/m/g/t suffix.") var s: String
        @Argument var lu: String
        func run() throws {
            let size = try parseSize(s)
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("PATCH", "/v1/lus/\(seg(lu))", body: ModifyLURequest(properties: [LUPropertyName.size: size]),
                                       as: LUInfo.self)
            }
            if global.json { printJSON(info) }
        }
    }
}
