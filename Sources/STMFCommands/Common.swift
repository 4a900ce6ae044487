#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import STMFAPI
import STMFClient

/// Options every command takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).")
    public var stateDir: String?

    @Flag(name: .customLong("json"), help: "Print JSON instead of the COMSTAR layout.")
    public var json = false

    public init() {}

    var client: APIClient { APIClient(stateDirectory: StateDirectory.resolve(stateDir)) }
}

/// A refusal already reported to the user: exit 1 with the message printed as COMSTAR does
/// (`stmfadm: message`).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs an API call, turning failures into a printed message and exit status 1.
func api<T>(_ body: () throws(APIClient.Failure) -> T) throws -> T {
    do { return try body() } catch {
        let tool = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "stmfadm"
        FileHandle.standardError.write(Data("\(tool): \(error.description)\n".utf8))
        throw ExitCode(1)
    }
}

/// Prints a value as pretty JSON.
func printJSON<T: Encodable>(_ value: T) {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    if let d = try? enc.encode(value) { print(String(decoding: d, as: UTF8.self)) }
}

func fail(_ message: String) throws -> Never {
    let tool = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "stmfadm"
    FileHandle.standardError.write(Data("\(tool): \(message)\n".utf8))
    throw ExitCode(1)
}

/// `name=value` pairs of `-p` options.
func parseProperties(_ items: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for item in items {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            try fail("\(item): invalid property specifier, expected name=value")
        }
        out[String(item[..<eq]).lowercased()] = String(item[item.index(after: eq)...])
    }
    return out
}


func seg(_ s: String) -> String { APIClient.segment(s) }
