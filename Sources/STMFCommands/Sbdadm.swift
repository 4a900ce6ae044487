import ArgumentParser
import CLISupport
import Foundation
import STMF
import STMFAPI
import STMFClient

/// sbdadm: the SCSI block disk command of illumos, over the same service. GUIDs are printed in
/// lowercase, as illumos' sbdadm prints them (stmfadm prints them in uppercase).
public struct Sbdadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sbdadm",
        abstract: "Manage SCSI block disk logical units.",
        subcommands: [Create.self, Delete.self, Import.self, List.self, Modify.self])
    public init() {}

    /// illumos cmdparse's behaviour: -V, usage errors exit 1, options before the subcommand.
    public static func main() { CommandLineRunner.main(Self.self) }

    /// illumos sbdadm's table: a blank line, the header (a tab and six spaces before GUID),
    /// then one line per LU.
    static func table(_ lus: [LUInfo]) -> String {
        var s = "\n"
        s += "\t      GUID                    DATA SIZE           SOURCE\n"
        s += "--------------------------------  -------------------  ----------------\n"
        for lu in lus {
            s += lu.guid.lowercased() + "  " + String(lu.size).padding(toLength: 19, withPad: " ", startingAt: 0) + "  " + lu.dataFile + "\n"
        }
        return s
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-lu", abstract: "Create a logical unit on FILE.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("disk-size")], help: ArgumentHelp("Size with <none>/k/m/g/t/p/e modifier.", valueName: "size"))
        var s: String?
        @Flag(help: "Write the LU's metadata over a file or device that holds other data (refused without it).")
        var overwrite = false
        @Argument(help: ArgumentHelp("Full path of the file to initialize.", valueName: "file"), completion: .file()) var file: String
        func run() throws {
            var props: [String: String] = [:]
            if let s { props[LUPropertyName.size] = try parseSize(s) }
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus", body: CreateLURequest(file: file, properties: props,
                                                                                 overwrite: overwrite ? true : nil), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print("Created the following LU:\n" + Sbdadm.table([info]), terminator: "") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-lu", abstract: "Delete a logical unit (its views too, unless -k).")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("keep-views")], help: "Don't delete view entries related to the LU.") var k = false
        @Flag(name: .short, help: ArgumentHelp("Accepted for compatibility (the LU is always taken offline first).", visibility: .hidden))
        var f = false
        @Argument(help: ArgumentHelp("GUID of the LU to deregister.", valueName: "lu-name"), completion: Completions.guids) var lu: String
        func run() throws {
            let guid = try requireGUID(lu)
            _ = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/lus/\(guid)\(k ? "?keepViews=1" : "")", as: EmptyResponse.self)
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-lu", abstract: "Import a logical unit from FILE's metadata.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("File name of the LU to import.", valueName: "file"), completion: .file()) var file: String
        func run() throws {
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lus/import", body: ImportLURequest(file: file), as: LUInfo.self)
            }
            if global.json { printJSON(info) } else { print("Imported the following LU:\n" + Sbdadm.table([info]), terminator: "") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-lu", abstract: "List all the exported LUs (nothing when there are none).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/lus", as: [LUInfo].self) }
                .filter { $0.provider == defaultLUProvider }
            if global.json { printJSON(all); return }
            guard !all.isEmpty else { return }
            print("\nFound \(all.count) LU(s)\n" + Sbdadm.table(all), terminator: "")
        }
    }

    struct Modify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "modify-lu", abstract: "Grow a logical unit.",
            discussion: "The operand is the GUID of a registered LU, or the full path (starting with /) of an LU's file.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("disk-size")], help: ArgumentHelp("New size with <none>/k/m/g/t/p/e modifier.", valueName: "size"))
        var s: String
        @Argument(help: ArgumentHelp("Full path of the LU or GUID of a registered LU.", valueName: "lu-name"), completion: Completions.guids)
        var lu: String
        func run() throws {
            let size = try parseSize(s)
            let info: LUInfo
            if lu.hasPrefix("/") {
                info = try api { () throws(APIClient.Failure) in
                    try global.client.call("POST", "/v1/lus/modify-file",
                                           body: ModifyLUFileRequest(file: lu, properties: [LUPropertyName.size: size]), as: LUInfo.self)
                }
            } else {
                let guid = try requireGUID(lu)
                info = try api { () throws(APIClient.Failure) in
                    try global.client.call("PATCH", "/v1/lus/\(guid)", body: ModifyLURequest(properties: [LUPropertyName.size: size]),
                                           as: LUInfo.self)
                }
            }
            if global.json { printJSON(info) }
        }
    }
}
