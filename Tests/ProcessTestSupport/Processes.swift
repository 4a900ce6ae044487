import Foundation

/// Where SwiftPM put the executables (next to the test bundle).
public let productsDirectory: URL = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The test binary may live inside a .xctest bundle directory.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("stmfd").path), dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    return dir
}()

public struct ProcessResult: Sendable {
    public var status: Int32
    public var out: String
    public var err: String
    public init(status: Int32, out: String, err: String) {
        self.status = status; self.out = out; self.err = err
    }
}

@discardableResult
public func runTool(_ tool: String, _ args: [String], env: [String: String] = [:], stdin: Data? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : productsDirectory.appendingPathComponent(tool)
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    e.removeValue(forKey: "STMF_STATE_DIR")
    for (k, v) in env { e[k] = v }
    p.environment = e
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    if let stdin {
        let inp = Pipe()
        p.standardInput = inp
        try p.run()
        inp.fileHandleForWriting.write(stdin)
        try inp.fileHandleForWriting.close()
    } else {
        p.standardInput = FileHandle.nullDevice
        try p.run()
    }
    // Read both pipes concurrently so neither fills up.
    let group = DispatchGroup()
    nonisolated(unsafe) var o = Data(), e2 = Data()
    group.enter(); DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { e2 = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.wait()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e2, as: UTF8.self))
}


/// Starts this build's stmfd on `stateDir` (output discarded); the caller terminates it.
public func launchStmfd(stateDir: String) throws -> Process {
    let stmfd = Process()
    stmfd.executableURL = productsDirectory.appendingPathComponent("stmfd")
    stmfd.arguments = ["--state-dir", stateDir]
    stmfd.standardOutput = FileHandle.nullDevice
    stmfd.standardError = FileHandle.nullDevice
    try stmfd.run()
    return stmfd
}
