#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import STMF
import STMFAPI
import STMFClient

/// Options every command takes, before or after the subcommand's name.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).",
            completion: .directory)
    public var stateDir: String?

    @Flag(name: .customLong("json"), help: "Print JSON instead of the COMSTAR layout.")
    public var json = false

    public init() {}

    var client: APIClient { APIClient(stateDirectory: StateDirectory.resolve(stateDir)) }
}

/// The tool's name as illumos prints it in messages (argv[0]'s last component).
var toolName: String { (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "stmfadm" }

/// Prints `tool: message` on standard error, as COMSTAR's commands report.
func report(_ message: String) {
    FileHandle.standardError.write(Data("\(toolName): \(message)\n".utf8))
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
        report(error.description)
        throw ExitCode(1)
    }
}

func fail(_ message: String) throws -> Never {
    report(message)
    throw ExitCode(1)
}

/// COMSTAR's commands that take several operands act on each on its own, report each failure
/// on its own line and exit with the number of operands that failed.
struct OperandFailures {
    private(set) var count = 0

    mutating func report(_ message: String) {
        STMFCommands.report(message)
        count += 1
    }

    /// Runs one operand's API call; a refusal is reported and counted.
    @discardableResult
    mutating func api<T>(_ body: () throws(APIClient.Failure) -> T) -> T? {
        do { return try body() } catch {
            report(error.description)
            return nil
        }
    }

    /// The exit status: the number of failed operands (at most 255).
    func finish() throws {
        if count > 0 { throw ExitCode(Int32(min(count, 255))) }
    }
}

/// COMSTAR's listings with operands: the objects they name, in their order; each operand that
/// names none is reported on its own (`why`) and makes the exit status 1 (`failed`).
func select<T>(_ all: [T], _ operands: [String], why: (String) -> String = { "\($0): not found" },
               _ find: (String) -> T?) -> (shown: [T], failed: Bool) {
    guard !operands.isEmpty else { return (all, false) }
    var shown: [T] = []
    var failed = false
    for operand in operands {
        if let found = find(operand) { shown.append(found) } else { report(why(operand)); failed = true }
    }
    return (shown, failed)
}

/// Prints a value as pretty JSON.
func printJSON<T: Encodable>(_ value: T) {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    if let d = try? enc.encode(value) { print(String(decoding: d, as: UTF8.self)) }
}

/// `name=value` pairs of `-p` options.
func parseProperties(_ items: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for item in items {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            try fail("\(item): invalid property specifier - prop=val")
        }
        out[String(item[..<eq]).lowercased()] = String(item[item.index(after: eq)...])
    }
    return out
}

/// An LU name operand, as the API names it (uppercase), or nil when it is not one.
func guidOperand(_ text: String) -> String? {
    LUGUID(text)?.description
}

/// An LU name that must be valid: otherwise the command stops with the one wording of it.
func requireGUID(_ text: String) throws -> String {
    guard let g = guidOperand(text) else { try fail(Wording.invalidGUID(text)) }
    return g
}

/// `-s`: a size with an optional k/m/g/t/p/e suffix, in bytes.
func parseSize(_ s: String) throws -> String {
    if s.hasPrefix("-") { try fail(Wording.negative(s, "size")) }
    guard let v = LUPropertyName.parseSize(s) else { try fail(Wording.invalidSize(s)) }
    return String(v)
}

func seg(_ s: String) -> String { APIClient.segment(s) }
