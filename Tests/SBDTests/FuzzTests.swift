import Foundation
import Locking
import Synchronization
import Testing
@testable import SBD
@testable import STMF

/// Random, mutated and boundary CDBs with random buffers, task attributes, LUN fields and
/// directions, sent concurrently through STMF to SBD LUs while task management functions and
/// MODE SELECTs (flipping D_SENSE) land at random. Every response must be well formed; the
/// LU must still work afterwards.
@Suite("Fuzz through the dispatcher")
struct FuzzTests {
    static let blockSize = 512

    /// Opcodes SBD or STMF define (plus a few neighbours), for "defined opcode, random fields".
    static let definedOpcodes: [UInt8] = [
        0x00, 0x03, 0x08, 0x0A, 0x12, 0x15, 0x16, 0x17, 0x1A, 0x1B, 0x1D, 0x1E, 0x25, 0x28, 0x2A, 0x2E, 0x2F,
        0x35, 0x3B, 0x3C, 0x41, 0x42, 0x4D, 0x55, 0x56, 0x57, 0x5A, 0x5E, 0x5F, 0x7F, 0x83, 0x84, 0x88, 0x89,
        0x8A, 0x8E, 0x8F, 0x91, 0x93, 0x9E, 0xA0, 0xA3, 0xA4, 0xA8, 0xAA, 0xAE, 0xAF,
    ]

    static let samStatuses: Set<SCSIStatus> = [.good, .checkCondition, .conditionMet, .busy, .reservationConflict,
                                               .taskSetFull, .acaActive, .taskAborted]
    static let checkConditionKeys: Set<SenseKey> = [.notReady, .mediumError, .hardwareError, .illegalRequest,
                                                    .unitAttention, .dataProtect, .abortedCommand, .miscompare]

    /// Failure bookkeeping shared by the streams: the first few failures are recorded in full.
    final class Failures: Sendable {
        let count = Atomic<Int>(0)
        func record(_ message: @autoclosure () -> String) {
            let n = count.add(1, ordering: .relaxed).newValue
            if n <= 25 { Issue.record(Comment(rawValue: message())) }
        }
    }

    struct Stats {
        var commands = 0
        var statuses: [UInt8: Int] = [:]
        var aborted = 0
        var descriptorSense = 0
        var fixedSense = 0
        var senseKeys: [UInt8: Int] = [:]
        var selfDescribing = 0
        mutating func merge(_ o: Stats) {
            selfDescribing += o.selfDescribing
            for (k, v) in o.senseKeys { senseKeys[k, default: 0] += v }
            commands += o.commands; aborted += o.aborted
            descriptorSense += o.descriptorSense; fixedSense += o.fixedSense
            for (k, v) in o.statuses { statuses[k, default: 0] += v }
        }
    }

    // MARK: Generation

    struct Generated {
        var cdb: [UInt8]
        var lun: UInt64
        var attribute: TaskAttribute
        var direction: DataDirection
        var out: [UInt8]?
        var inCapacity: Int    // 0 = no data-in buffer
        var expected: Int
    }

    static func boundaryLBA(_ r: inout SplitMix64, capacity: UInt64) -> UInt64 {
        switch r.below(9) {
        case 0: 0
        case 1: capacity - 1
        case 2: capacity
        case 3: capacity + 1
        case 4: UInt64(UInt32.max)
        case 5: UInt64.max
        case 6: UInt64.max - 1
        case 7: UInt64(r.below(Int(capacity)))
        default: r.next()
        }
    }

    static func boundaryCount(_ r: inout SplitMix64) -> UInt64 {
        switch r.below(9) {
        case 0: 0
        case 1: 1
        case 2: UInt64(r.below(64))
        case 3: 0xFF
        case 4: 0xFFFF
        case 5: UInt64(UInt32.max)
        case 6: 16384          // max transfer (8 MiB / 512)
        case 7: 16385
        default: UInt64(r.below(4096))
        }
    }

    /// A valid (or nearly valid) CDB of a known command, with matching parameter data when it
    /// takes some.
    static func template(_ r: inout SplitMix64, capacity: UInt64) -> (cdb: [UInt8], out: [UInt8]?, inLength: Int) {
        let lba = r.chance(70) ? UInt64(r.below(Int(capacity))) : boundaryLBA(&r, capacity: capacity)
        let n = r.chance(80) ? 1 + r.below(16) : Int(truncatingIfNeeded: boundaryCount(&r) & 0xFFFF)
        let bs = blockSize
        switch r.below(26) {
        case 0: return (e2eTUR, nil, 0)
        case 1: return ([0x03, r.chance(50) ? 1 : 0, 0, 0, UInt8(r.below(256)), 0], nil, 255)
        case 2: return (e2eInquiry(evpd: r.chance(60), page: [0, 0x80, 0x83, 0x86, 0xB0, 0xB1, 0xB2, 0xC0][r.below(8)],
                                   alloc: [0, 1, 4, 36, 255, 1024, 65535][r.below(7)]), nil, 1024)
        case 3: return (e2eRead10(lba & 0xFFFF_FFFF, n & 0xFFFF), nil, n * bs)
        case 4: return (e2eRead16(lba, n), nil, n * bs)
        case 5: return ([0x08] + e2eBE(lba & 0x1F_FFFF, 3) + [UInt8(n & 0xFF), 0], nil, max(1, n & 0xFF) * bs)
        case 6: return ([0xA8, 0] + e2eBE(lba & 0xFFFF_FFFF, 4) + e2eBE(UInt64(n), 4) + [0, 0], nil, n * bs)
        case 7: return (e2eWrite10(lba & 0xFFFF_FFFF, n & 0xFFFF, fua: r.chance(30)), r.bytes(min(n, 64) * bs), 0)
        case 8: return (e2eWrite16(lba, n, fua: r.chance(30)), r.bytes(min(n, 64) * bs), 0)
        case 9: return ([0x0A] + e2eBE(lba & 0x1F_FFFF, 3) + [UInt8(n & 0xFF), 0], r.bytes(max(1, n & 0xFF) * bs), 0)
        case 10: return ([0x2E, 0] + e2eBE(lba & 0xFFFF_FFFF, 4) + [0] + e2eBE(UInt64(n & 0xFFFF), 2) + [0], r.bytes(min(n, 64) * bs), 0)
        case 11: return ([0x2F, UInt8(r.below(4)) << 1] + e2eBE(lba & 0xFFFF_FFFF, 4) + [0] + e2eBE(UInt64(n & 0xFFFF), 2) + [0],
                         r.bytes(min(n, 64) * bs), 0)
        case 12: return (r.chance(50) ? e2eSyncCache10(lba & 0xFFFF_FFFF, n & 0xFFFF) : e2eSyncCache16(lba, n), nil, 0)
        case 13:
            let block = r.chance(40) ? [UInt8](repeating: 0, count: bs) : r.bytes(bs)
            return (r.chance(50) ? e2eWriteSame10(lba & 0xFFFF_FFFF, n & 0xFFFF, unmap: r.chance(50))
                                 : e2eWriteSame16(lba, n, unmap: r.chance(50)), block, 0)
        case 14:
            var ranges: [(UInt64, UInt32)] = []
            for _ in 0..<r.below(4) { ranges.append((r.chance(70) ? UInt64(r.below(Int(capacity))) : boundaryLBA(&r, capacity: capacity),
                                                     UInt32(truncatingIfNeeded: r.chance(80) ? UInt64(r.below(32)) : boundaryCount(&r)))) }
            let list = e2eUnmapList(ranges)
            return (e2eUnmap(paramLength: list.count), list, 0)
        case 15:
            let k = 1 + r.below(4)
            return (e2eCompareAndWrite(lba, k, fua: r.chance(30)), r.bytes(2 * k * bs), 0)
        case 16: return (e2eReadCapacity16(alloc: [0, 8, 12, 32, 255][r.below(5)]), nil, 32)
        case 17: return ([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], nil, 8)
        case 18: return ([0x1A, UInt8(r.below(2)) << 3, UInt8(r.below(4)) << 6 | [0x3F, 0x08, 0x0A, 0x1C, 0x00][r.below(5)], 0,
                          UInt8(r.below(256)), 0], nil, 255)
        case 19: return ([0x5A, UInt8(r.below(4)) << 3, [0x3F, 0x08, 0x0A][r.below(3)], 0, 0, 0, 0] + e2eBE(UInt64(r.below(1024)), 2) + [0],
                         nil, 1024)
        case 20:
            let ms = e2eModeSelectControl(dSense: r.chance(50))
            return (ms.cdb, ms.data, 0)
        case 21: return (e2ePRIn(UInt8(r.below(5)), alloc: [0, 8, 24, 1024][r.below(4)]), nil, 1024)
        case 22:
            let list = e2ePRList(key: UInt64(r.below(4)), sak: UInt64(r.below(4)), aptpl: r.chance(10))
            return (e2ePROut(UInt8(r.below(9)), type: UInt8(r.below(9)), length: r.chance(90) ? 24 : r.below(40)), list, 0)
        case 23: return ([[0x16, 0x17, 0x56, 0x57][r.below(4)], 0, 0, 0, 0, 0, 0, 0, 0, 0], nil, 0)
        case 24: return ([0xA3, [0x0A, 0x0C, 0x0D, 0x05][r.below(4)], UInt8(r.below(3)), 0x28, 0, 0] + e2eBE(UInt64(r.below(2048)), 4) + [0, 0],
                         nil, 2048)
        default: return ([0xA0, 0, UInt8(r.below(3)), 0, 0, 0] + e2eBE(UInt64([0, 8, 16, 4096][r.below(4)]), 4) + [0, 0], nil, 4096)
        }
    }

    static func generate(_ r: inout SplitMix64, capacity: UInt64) -> Generated {
        var cdb: [UInt8]
        var out: [UInt8]?
        var inLength = 0
        switch r.below(10) {
        case 0, 1: // fully random bytes, length 0...40
            cdb = r.bytes(r.below(41))
        case 2, 3, 4: // defined opcode, random fields
            let op = definedOpcodes[r.below(definedOpcodes.count)]
            let len = CDB.expectedLength(opcode: op) ?? [10, 16, 32, 40][r.below(4)]
            cdb = [op] + r.bytes(len - 1)
            if r.chance(75) { cdb[len - 1] = 0 }                          // control byte without NACA
            if r.chance(30), len >= 10 {                                  // boundary LBA / length
                let v = boundaryLBA(&r, capacity: capacity)
                if len == 16 { cdb.replaceSubrange(2..<10, with: e2eBE(v, 8)) } else { cdb.replaceSubrange(2..<6, with: e2eBE(v, 4)) }
            }
            inLength = r.below(8192)
            if r.chance(50) { out = r.bytes(r.below(8192)) }
        default: // mutation of a valid CDB
            let t = template(&r, capacity: capacity)
            cdb = t.cdb; out = t.out; inLength = t.inLength
            if r.chance(60) {
                for _ in 0..<(1 + r.below(3)) where !cdb.isEmpty {
                    switch r.below(5) {
                    case 0, 1: cdb[r.below(cdb.count)] ^= 1 << UInt8(r.below(8))           // bit flip
                    case 2: cdb = Array(cdb.prefix(r.below(cdb.count + 1)))                 // truncate
                    case 3: cdb += r.bytes(1 + r.below(8))                                  // extend
                    default: cdb[r.below(cdb.count)] = [0, 0xFF, 0x80, 0x7F][r.below(4)]  // boundary byte
                    }
                }
            }
            if var o = out, r.chance(30) {   // data-out smaller / larger than needed
                switch r.below(4) {
                case 0: o = Array(o.prefix(r.below(o.count + 1)))
                case 1: o += r.bytes(1 + r.below(1024))
                case 2: o = []
                default: if !o.isEmpty { o[r.below(o.count)] ^= 0xFF }
                }
                out = o
            }
        }

        // LUN field: mostly the mapped LUN 0, sometimes unmapped, well-known or bogus addressing.
        let lun: UInt64 = switch r.below(20) {
        case 0: LUNAddress.field(for: UInt16(1 + r.below(300)))
        case 1: LUNAddress.reportLUNsWellKnownField
        case 2: r.next()
        case 3: UInt64(0x80 | r.below(0x40)) << 56         // extended / logical unit addressing
        default: 0
        }
        let attribute: TaskAttribute = r.chance(90) ? .simple : TaskAttribute.allCases[r.below(TaskAttribute.allCases.count)]

        // Direction and buffers.
        var direction: DataDirection
        switch r.below(20) {
        case 0: direction = .none
        case 1: direction = .bidirectional
        case 2: direction = out == nil ? .write : .read    // the wrong one
        default: direction = out != nil ? .write : (inLength > 0 ? .read : .none)
        }
        if direction == .none && r.chance(50) { out = nil }
        var inCapacity = 0
        var expected = 0
        if direction == .read || direction == .bidirectional || r.chance(10) {
            inCapacity = switch r.below(8) {
            case 0: 0
            case 1: 1
            case 2: 17
            case 3: inLength
            case 4: max(0, inLength - 1)
            case 5: inLength + 1
            case 6: 65536
            default: r.below(9000)
            }
            expected = switch r.below(6) {
            case 0: 0
            case 1: r.below(inCapacity + 1)
            case 2: inCapacity + r.below(4096)   // more than the buffer holds
            default: inCapacity
            }
        }
        if direction == .write, let o = out {
            expected = r.chance(90) ? o.count : r.below(o.count + 1024)
        }
        return Generated(cdb: cdb, lun: lun, attribute: attribute, direction: direction, out: out,
                         inCapacity: inCapacity, expected: expected)
    }

    // MARK: Checking

    static let canary: UInt8 = 0xA5

    /// Sends one command and checks the response; returns it.
    static func send(_ session: Session, _ g: Generated, tag: UInt64, failures: Failures, stats: inout Stats,
                     context: @autoclosure () -> String) async -> TaskResponse {
        let outBuf = g.out.map { IOBuffer(copying: $0) }
        let inBuf = g.inCapacity > 0 ? IOBuffer(capacity: g.inCapacity) : nil
        let limit = max(0, min(g.expected, g.inCapacity))
        if let inBuf, limit < inBuf.capacity {
            let end = min(inBuf.capacity, limit + 4096)
            (inBuf.bytes.baseAddress! + limit).initializeMemory(as: UInt8.self, repeating: canary, count: end - limit)
        }
        let cmd = SCSICommand(lun: g.lun, cdb: CDB(g.cdb), attribute: g.attribute, tag: tag, direction: g.direction,
                              expectedTransferLength: g.expected, dataOut: outBuf, dataIn: inBuf)
        let r = await session.execute(cmd)
        stats.commands += 1
        stats.statuses[r.status.rawValue, default: 0] += 1
        if !samStatuses.contains(r.status) { failures.record("\(context()): status \(r.status) is not a SAM status") }
        if r.dataLength < 0 || r.intendedLength < 0 {
            failures.record("\(context()): negative lengths \(r.dataLength) / \(r.intendedLength)")
        }
        let outCount = outBuf?.count ?? 0
        if r.dataLength > max(limit, outCount) {
            failures.record("\(context()): dataLength \(r.dataLength) > limit \(limit) (expected \(g.expected), capacity \(g.inCapacity), out \(outCount))")
        }
        if let inBuf, limit < inBuf.capacity {
            let end = min(inBuf.capacity, limit + 4096)
            let tail = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(inBuf.bytes)[limit..<end])
            if tail.contains(where: { $0 != canary }) {
                failures.record("\(context()): data-in written past the limit \(limit)")
            }
        }
        // A completed data-in command moves exactly what was asked, up to what the transport takes.
        if !r.aborted, r.status == .good, inBuf != nil, g.direction == .read || g.direction == .bidirectional,
           r.intendedLength > 0, outCount == 0, r.dataLength != min(r.intendedLength, limit) {
            failures.record("\(context()): GOOD with dataLength \(r.dataLength), intended \(r.intendedLength), limit \(limit)")
        }
        // Self-describing data-in: the length the header declares agrees with what was sent.
        if !r.aborted, r.status == .good, let inBuf, r.dataLength > 0,
           let declared = declaredLength(g.cdb, inBuf.array(r.dataLength)) {
            let alloc = allocationLength(g.cdb)
            stats.selfDescribing += 1
            if r.intendedLength != min(alloc, declared) {
                failures.record("\(context()): header declares \(declared) bytes, allocation \(alloc), intended \(r.intendedLength)")
            }
        }
        if r.aborted {
            stats.aborted += 1
            return r
        }
        if r.status == .checkCondition {
            guard let sense = r.sense, let bytes = r.senseBytes else {
                failures.record("\(context()): CHECK CONDITION without sense")
                return r
            }
            if r.descriptorSense { stats.descriptorSense += 1 } else { stats.fixedSense += 1 }
            stats.senseKeys[sense.key.rawValue, default: 0] += 1
            if !checkConditionKeys.contains(sense.key) { failures.record("\(context()): CHECK CONDITION with sense key \(sense.key)") }
            if bytes.count != sense.encodedLength(descriptor: r.descriptorSense) {
                failures.record("\(context()): sense length \(bytes.count) != \(sense.encodedLength(descriptor: r.descriptorSense))")
            }
            let code = bytes.first.map { $0 & 0x7F }
            if code != (r.descriptorSense ? 0x72 : 0x70) { failures.record("\(context()): response code \(String(describing: code))") }
            if r.descriptorSense {
                if bytes.count >= 8, Int(bytes[7]) + 8 != bytes.count { failures.record("\(context()): ADDITIONAL SENSE LENGTH \(bytes[7]) for \(bytes.count) bytes") }
            } else if bytes.count >= 8, bytes[7] != 10 {
                failures.record("\(context()): fixed ADDITIONAL SENSE LENGTH \(bytes[7])")
            }
            for descriptor in [r.descriptorSense, !r.descriptorSense] {
                let enc = descriptor == r.descriptorSense ? bytes : sense.bytes(descriptor: descriptor)
                guard let p = SenseData(parsing: enc) else {
                    failures.record("\(context()): sense \(enc) does not parse (descriptor \(descriptor))")
                    continue
                }
                if p.key != sense.key || p.additional != sense.additional || p.senseKeySpecific != sense.senseKeySpecific {
                    failures.record("\(context()): sense round trip (descriptor \(descriptor)) \(p) != \(sense)")
                }
                if descriptor || (sense.information ?? 0) <= UInt64(UInt32.max), p.information != sense.information {
                    failures.record("\(context()): INFORMATION round trip \(String(describing: p.information)) != \(String(describing: sense.information))")
                }
            }
        } else if r.sense != nil {
            failures.record("\(context()): status \(r.status) with sense \(String(describing: r.sense))")
        }
        return r
    }

    static func u16(_ d: [UInt8], _ o: Int) -> Int { Int(d[o]) << 8 | Int(d[o + 1]) }
    static func u32(_ d: [UInt8], _ o: Int) -> Int { u16(d, o) << 16 | u16(d, o + 2) }

    /// ALLOCATION LENGTH of the commands `declaredLength` understands.
    static func allocationLength(_ c: [UInt8]) -> Int {
        switch c[0] {
        case 0x12: u16(c, 3)
        case 0x1A: Int(c[4])
        case 0x5A, 0x5E: u16(c, 7)
        case 0xA0, 0xA3: u32(c, 6)
        case 0x9E: u32(c, 10)
        default: 0
        }
    }

    /// The full length the returned header claims, for commands whose data describes its own
    /// length (nil when the data is too short to tell or the command is not one of them).
    static func declaredLength(_ c: [UInt8], _ d: [UInt8]) -> Int? {
        guard let op = c.first, let need = CDB.expectedLength(opcode: op), c.count >= need else { return nil }
        switch op {
        case 0x12:
            if c[1] & 0x01 == 0 { return d.count >= 5 ? Int(d[4]) + 5 : nil }
            return d.count >= 4 ? u16(d, 2) + 4 : nil
        case 0x1A: return d.count >= 1 ? Int(d[0]) + 1 : nil
        case 0x5A: return d.count >= 2 ? u16(d, 0) + 2 : nil
        case 0xA0: return d.count >= 4 ? u32(d, 0) + 8 : nil
        case 0xA3:
            switch c[1] & 0x1F {
            case 0x0A: return d.count >= 4 ? u32(d, 0) + 4 : nil                            // RTPG
            case 0x0C where c[2] & 0x07 == 0: return d.count >= 4 ? u32(d, 0) + 4 : nil     // RSOC, all commands
            default: return nil
            }
        case 0x9E where c[1] & 0x1F == 0x10: return 32                                         // READ CAPACITY (16)
        case 0x5E:
            switch c[1] & 0x1F {
            case 0, 1, 3: return d.count >= 8 ? u32(d, 4) + 8 : nil
            case 2: return d.count >= 2 ? u16(d, 0) : nil
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Driver

    final class Shared: Sendable {
        let done = Atomic<Bool>(false)
        let recentTags = Locked<[UInt64]>([])
        let tmfCount = Atomic<Int>(0)
    }

    struct RunResult { var stats: Stats; var failures: Int }

    /// `streams` sessions send `perStream` commands each, concurrently, while a side task fires
    /// task management functions and D_SENSE flips.
    static func fuzz(lu: SBDLogicalUnit, seed: UInt64, streams: Int, perStream: Int) async throws -> RunResult {
        let fabric = try await E2EFabric()
        try await fabric.add(lu)
        var sessions: [Session] = []
        // Two streams share each session, so tags can collide within a nexus (overlapped commands).
        for i in 0..<max(1, streams / 2) {
            sessions.append(try fabric.session(.wwn(WWN(0x2100_0000_00F0_0000 + UInt64(i)))))
        }
        let capacity = lu.blockCount
        let failures = Failures()
        let shared = Shared()
        let sessionList = sessions

        let tmf = Task {
            var r = SplitMix64(seed: seed ^ 0x7F7F_7F7F)
            while !shared.done.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(2 + r.below(8)))
                let s = sessionList[r.below(sessionList.count)]
                let lunField: UInt64 = r.chance(90) ? 0 : LUNAddress.field(for: UInt16(1 + r.below(5)))
                let tag = shared.recentTags.withLock { $0.isEmpty ? 0 : $0[r.below($0.count)] }
                let f: TaskManagementFunction
                switch r.below(12) {
                case 0...4: f = .abortTask(tag: tag, lun: lunField)
                case 5: f = .abortTaskSet(lun: lunField)
                case 6: f = .clearTaskSet(lun: lunField)
                case 7: f = .logicalUnitReset(lun: lunField)
                case 8: f = .itNexusReset
                case 9: f = .queryTask(tag: tag, lun: lunField)
                case 10: f = .clearACA(lun: lunField)
                default:
                    // MODE SELECT flipping D_SENSE (through a session, as an initiator would).
                    let ms = e2eModeSelectControl(dSense: r.chance(50))
                    _ = await s.e2e(ms.cdb, out: ms.data)
                    continue
                }
                let resp = await s.taskManagement(f)
                shared.tmfCount.add(1, ordering: .relaxed)
                var addressesLUN = true
                if case .itNexusReset = f { addressesLUN = false }
                if addressesLUN, lunField != 0, resp != .incorrectLogicalUnitNumber {
                    failures.record("seed \(seed): \(f) on an unmapped LUN answered \(resp)")
                }
            }
        }

        let results = try await withThrowingTaskGroup(of: Stats.self) { group in
            for i in 0..<streams {
                let session = sessionList[i % sessionList.count]
                group.addTask {
                    var r = SplitMix64(seed: seed &+ UInt64(i) &* 0x1000_0000_0001)
                    var stats = Stats()
                    for n in 0..<perStream {
                        let g = generate(&r, capacity: capacity)
                        let tag = r.chance(2) ? UInt64(r.below(4)) : e2eTag()   // occasionally reuse a tag
                        if n % 16 == 0 { shared.recentTags.withLock { if $0.count > 64 { $0.removeFirst(32) }; $0.append(tag) } }
                        _ = await send(session, g, tag: tag, failures: failures, stats: &stats,
                                       context: "seed \(seed) stream \(i) command \(n) cdb \(g.cdb.map { String(format: "%02x", $0) }.joined(separator: " ")) lun \(String(g.lun, radix: 16)) attr \(g.attribute) dir \(g.direction) out \(g.out?.count ?? -1) in \(g.inCapacity) etl \(g.expected)")
                    }
                    return stats
                }
            }
            var all = Stats()
            for try await s in group { all.merge(s) }
            return all
        }
        shared.done.store(true, ordering: .relaxed)
        await tmf.value
        #expect(shared.tmfCount.load(ordering: .relaxed) > 0)

        // The LU still works: a fresh nexus clears its UAs, drops any reservation, starts the
        // unit, restores fixed sense, and then TEST UNIT READY and READ/WRITE behave.
        let check = try fabric.session(e2eHostA)
        #expect(await check.taskManagement(.logicalUnitReset(lun: 0)) == .functionComplete)  // SPC-2 reservations
        await check.e2eClearUAs()
        let key: UInt64 = 0xF00D
        let reg = e2ePRList(sak: key)
        #expect(await check.e2e(e2ePROut(6, length: 24), out: reg).status == .good, "seed \(seed): REGISTER AND IGNORE")
        #expect(await check.e2e(e2ePROut(3, length: 24), out: e2ePRList(key: key)).status == .good, "seed \(seed): CLEAR")
        #expect(await check.e2e([0x1B, 0, 0, 0, 0x01, 0]).status == .good, "seed \(seed): START STOP UNIT")
        let ms = e2eModeSelectControl(dSense: false)
        #expect(await check.e2e(ms.cdb, out: ms.data).status == .good)
        // D_SENSE reaches both the LU's own errors and the UAs STMF reports for it.
        let other = try fabric.session(e2eHostB)
        await other.e2eClearUAs()
        let dOn = e2eModeSelectControl(dSense: true)
        #expect(await check.e2e(dOn.cdb, out: dOn.data).status == .good)
        let oor = await check.e2e(e2eRead16(capacity, 1), inLength: blockSize)
        #expect(oor.status == .checkCondition && oor.response.descriptorSense && oor.response.senseBytes?.first == 0x72,
                "seed \(seed): \(oor.response)")
        let mpc = await other.e2e(e2eTUR)
        #expect(mpc.status == .checkCondition && mpc.sense?.additional == .modeParametersChanged, "seed \(seed): \(mpc.response)")
        #expect(mpc.response.senseBytes?.first == 0x72 && mpc.response.senseBytes?.count == 8, "seed \(seed): \(mpc.response)")
        let dOff = e2eModeSelectControl(dSense: false)
        #expect(await check.e2e(dOff.cdb, out: dOff.data).status == .good)
        let mpc2 = await other.e2e(e2eTUR)
        #expect(mpc2.sense?.additional == .modeParametersChanged && mpc2.response.senseBytes?.count == 18, "seed \(seed): \(mpc2.response)")
        let tur = await check.e2e(e2eTUR)
        #expect(tur.status == .good, "seed \(seed): TEST UNIT READY after fuzz: \(tur.response)")
        let data = e2eBlockPattern(8 * blockSize, seed: seed)
        #expect(await check.e2e(e2eWrite10(100, 8), out: data).status == .good)
        let back = await check.e2e(e2eRead16(100, 8), inLength: 8 * blockSize)
        #expect(back.status == .good)
        let readBackEqual = back.data == data
        #expect(readBackEqual, "seed \(seed): data read back after the fuzz differs")
        let bad = await check.e2e(e2eRead16(capacity, 1), inLength: blockSize)
        #expect(bad.status == .checkCondition && bad.sense?.additional == .lbaOutOfRange)
        for s in sessions + [check, other] { #expect(s.tasksInFlight == 0) }
        return RunResult(stats: results, failures: failures.count.load(ordering: .relaxed))
    }

    static func seed(_ fallback: UInt64) -> UInt64 {
        ProcessInfo.processInfo.environment["SBD_FUZZ_SEED"].flatMap { UInt64($0, radix: 16) } ?? fallback
    }

    static func scale(_ n: Int) -> Int {
        let f = ProcessInfo.processInfo.environment["SBD_FUZZ_SCALE"].flatMap(Double.init) ?? 1
        return max(1, Int(Double(n) * f))
    }

    @Test(.timeLimit(.minutes(4)))
    func ramLU() async throws {
        let seed = Self.seed(0xF022_0000_0000_0001)
        let lu = try SBDLogicalUnit.create(properties: e2eProperties(size: 1 << 20, guid: "600144F0000000000000000000E2EF01"), backing: .ram)
        defer { lu.delete() }
        let start = ContinuousClock.now
        let result = try await Self.fuzz(lu: lu, seed: seed, streams: 8, perStream: Self.scale(60_000))
        let elapsed = ContinuousClock.now - start
        print("fuzz RAM seed \(String(seed, radix: 16)): \(result.stats.commands) commands in \(elapsed), statuses \(result.stats.statuses.sorted { $0.key < $1.key }), aborted \(result.stats.aborted), sense fixed \(result.stats.fixedSense) descriptor \(result.stats.descriptorSense), sense keys \(result.stats.senseKeys.sorted { $0.key < $1.key })")
        #expect(result.failures == 0, "seed \(String(seed, radix: 16)): \(result.failures) bad responses")
        #expect(result.stats.commands == 8 * Self.scale(60_000))
        // The mix reached the LU and got every kind of answer, in both sense formats.
        #expect(result.stats.statuses[SCSIStatus.good.rawValue, default: 0] > 1000)
        #expect(result.stats.statuses[SCSIStatus.checkCondition.rawValue, default: 0] > 1000)
        #expect(result.stats.fixedSense > 100 && result.stats.descriptorSense > 100)
        #expect(result.stats.selfDescribing > 1000, "\(result.stats.selfDescribing) self-describing responses checked")
    }

    @Test(.timeLimit(.minutes(3)))
    func fileLU() async throws {
        let seed = Self.seed(0xF022_0000_0000_0002)
        let dir = try E2ETempDir()
        defer { withExtendedLifetime(dir) {} }
        let lu = try SBDLogicalUnit.create(properties: e2eProperties(size: 1 << 20, guid: "600144F0000000000000000000E2EF02"),
                                           backing: .path(dir.path("fuzz.img")))
        defer { lu.delete() }
        let result = try await Self.fuzz(lu: lu, seed: seed, streams: 4, perStream: Self.scale(10_000))
        print("fuzz file seed \(String(seed, radix: 16)): \(result.stats.commands) commands, statuses \(result.stats.statuses.sorted { $0.key < $1.key }), aborted \(result.stats.aborted)")
        #expect(result.failures == 0, "seed \(String(seed, radix: 16)): \(result.failures) bad responses")
        #expect(result.stats.statuses[SCSIStatus.good.rawValue, default: 0] > 100)
    }
}
