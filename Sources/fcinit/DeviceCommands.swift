import ArgumentParser
import FCInitiator
import FCPort
import Foundation
import STMF

struct Inquiry: FCInitSubcommand {
    static let configuration = CommandConfiguration(abstract: "Send a standard INQUIRY to a LUN.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Flag(help: "Print JSON.")
    var json = false

    func execute() async throws {
        try await runCLI {
            let wwpn = try target.targetName(), lun = target.lun
            let r = try await global.withInitiator { ini in
                try await ini.cliLogin(wwpn)
                return try await ini.cliRun(.inquiry(lun: lun), "INQUIRY", target: wwpn)
            }
            guard let inq = InquiryData(parsing: r.data) else { throw CLIError("INQUIRY returned \(r.data.count) bytes") }
            if json {
                try printJSON(["vendor": inq.vendor, "product": inq.product, "revision": inq.revision,
                               "deviceType": inq.deviceTypeName, "peripheralDeviceType": String(inq.peripheralDeviceType),
                               "peripheralQualifier": String(inq.peripheralQualifier), "version": String(inq.version)])
                return
            }
            print("Vendor: \(inq.vendor)")
            print("Product: \(inq.product)")
            print("Revision: \(inq.revision)")
            print("Device Type: \(inq.deviceTypeName) (0x\(String(inq.peripheralDeviceType, radix: 16)))")
            print("Peripheral Qualifier: \(inq.peripheralQualifier)")
            print("Version: 0x\(String(inq.version, radix: 16))")
        }
    }
}

struct ReadCapacity: FCInitSubcommand {
    static let configuration = CommandConfiguration(commandName: "read-capacity",
                                                    abstract: "Send READ CAPACITY(16) to a LUN.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Flag(help: "Print JSON.")
    var json = false

    func execute() async throws {
        try await runCLI {
            let wwpn = try target.targetName(), lun = target.lun
            let cap = try await global.withInitiator { ini in
                try await ini.cliLogin(wwpn)
                return try await ini.capacity(lun: lun, target: wwpn)
            }
            if json {
                try printJSON(["blocks": String(cap.blocks), "blockSize": String(cap.blockSize), "bytes": String(cap.bytes),
                               "size": humanReadableSize(cap.bytes)])
                return
            }
            print("Blocks: \(cap.blocks)")
            print("Block Size: \(cap.blockSize)")
            print("Capacity: \(humanReadableSize(cap.bytes)) (\(cap.bytes) bytes)")
        }
    }
}

struct TestUnitReady: FCInitSubcommand {
    static let configuration = CommandConfiguration(commandName: "tur", abstract: "Send TEST UNIT READY to a LUN.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions

    func execute() async throws {
        try await runCLI {
            let wwpn = try target.targetName(), lun = target.lun
            _ = try await global.withInitiator { ini in
                try await ini.cliLogin(wwpn)
                return try await ini.cliRun(.testUnitReady(lun: lun), "TEST UNIT READY", target: wwpn)
            }
            print("ready")
        }
    }
}

struct Read: FCInitSubcommand {
    static let configuration = CommandConfiguration(abstract: "Read blocks (READ(16)) to a file or as a hex dump.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Option(help: "First logical block.")
    var lba: UInt64 = 0
    @Option(help: "Number of blocks.")
    var blocks: UInt32 = 1
    @Option(help: "Write the data to this file instead of a hex dump on stdout.")
    var output: String?

    func execute() async throws {
        try await runCLI {
            let wwpn = try target.targetName(), lun = target.lun, lba = lba, blocks = blocks
            let data = try await global.withInitiator { ini in
                try await ini.cliLogin(wwpn)
                let cap = try await ini.capacity(lun: lun, target: wwpn)
                var out: [UInt8] = []
                var done: UInt32 = 0
                let chunk = UInt32(max(1, (8 << 20) / Int(cap.blockSize)))
                while done < blocks {
                    let n = min(chunk, blocks - done)
                    let r = try await ini.cliRun(.read16(lun: lun, lba: lba + UInt64(done), blocks: n, blockSize: Int(cap.blockSize)),
                                                 "READ(16)", target: wwpn)
                    out += r.data
                    done += n
                }
                return out
            }
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(data)) else {
                    throw CLIError("cannot write \(output)")
                }
            } else {
                print(hexDump(data), terminator: "")
            }
        }
    }
}

struct Write: FCInitSubcommand {
    static let configuration = CommandConfiguration(abstract: "Write blocks (WRITE(16)) from a file or a byte pattern.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Option(help: "First logical block.")
    var lba: UInt64 = 0
    @Option(help: "File to write (a whole number of blocks).")
    var input: String?
    @Option(help: "Fill every byte with this value (0-255) instead of --input.")
    var pattern: UInt8?
    @Option(help: "Number of blocks to write with --pattern.")
    var blocks: UInt32 = 1

    func validate() throws {
        if (input == nil) == (pattern == nil) { throw ValidationError("give either --input FILE or --pattern BYTE") }
    }

    func execute() async throws {
        try await runCLI {
            let wwpn = try target.targetName(), lun = target.lun, lba = lba, blocks = blocks, pattern = pattern
            var fileData: [UInt8]?
            if let input {
                guard let d = FileManager.default.contents(atPath: input) else { throw CLIError("cannot read \(input)") }
                fileData = Array(d)
            }
            let payload = fileData
            let written = try await global.withInitiator { ini in
                try await ini.cliLogin(wwpn)
                let cap = try await ini.capacity(lun: lun, target: wwpn)
                let bs = Int(cap.blockSize)
                let data = payload ?? [UInt8](repeating: pattern ?? 0, count: Int(blocks) * bs)
                guard !data.isEmpty, data.count % bs == 0 else {
                    throw CLIError("\(data.count) bytes is not a whole number of \(bs)-byte blocks")
                }
                let chunk = max(bs, (8 << 20) / bs * bs)
                var off = 0
                while off < data.count {
                    let n = min(chunk, data.count - off)
                    _ = try await ini.cliRun(.write16(lun: lun, lba: lba + UInt64(off / bs), data: Array(data[off..<(off + n)]),
                                                     blockSize: bs), "WRITE(16)", target: wwpn)
                    off += n
                }
                return (data.count / bs, bs)
            }
            print("wrote \(written.0) blocks of \(written.1) bytes at LBA \(lba)")
        }
    }
}

extension FCInitiator {
    func capacity(lun: UInt16, target wwpn: WWN) async throws -> ReadCapacityData {
        let r = try await cliRun(.readCapacity16(lun: lun), "READ CAPACITY(16)", target: wwpn)
        guard let c = ReadCapacityData(parsing: r.data), c.blockSize > 0 else {
            throw CLIError("READ CAPACITY(16) returned \(r.data.count) bytes")
        }
        return c
    }
}

/// `xxd`-style dump: offset, 16 bytes in hex, printable ASCII.
func hexDump(_ data: [UInt8]) -> String {
    var s = ""
    s.reserveCapacity(data.count * 4 + 64)
    func hex(_ v: Int, _ w: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, w - h.count)) + h
    }
    var off = 0
    while off < data.count {
        let row = data[off..<min(off + 16, data.count)]
        s += hex(off, 8) + ": "
        for (i, b) in row.enumerated() {
            s += hex(Int(b), 2)
            if i % 2 == 1 { s += " " }
        }
        if row.count < 16 { s += String(repeating: " ", count: (16 - row.count) * 2 + (16 - row.count + 1) / 2) }
        s += " " + String(decoding: row.map { $0 >= 0x20 && $0 < 0x7F ? $0 : 0x2E }, as: UTF8.self) + "\n"
        off += 16
    }
    return s
}
