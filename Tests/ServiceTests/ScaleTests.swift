import Foundation
import Testing
import SBD
import STMFAPI
@testable import STMFService

/// The export document and the SQLite store keep every byte at a scale COMSTAR's svccfg
/// export could not (it truncated LU data over 2 KiB).
@Suite struct ScaleTests {
    static func bigConfiguration(lus: Int, groups: Int = 500) -> StoredConfiguration {
        var c = StoredConfiguration()
        for i in 0..<lus {
            var p = SBDProperties()
            p.size = UInt64(i + 1) << 20
            p.alias = "lu-\(i)-" + String(repeating: "x", count: i % 200)
            p.serial = "SN\(i)"
            // Every 50th LU carries a property well over 2 KiB (svccfg export's limit).
            p.managementURL = "https://mgmt.example/\(i)?" + String(repeating: "q", count: i % 50 == 0 ? 3000 : 10)
            p.writeCacheDisabled = i % 3 == 0
            let guid = String(format: "600144F0%024X", i)
            p.guid = guid
            p.metaFile = i % 7 == 0 ? "/meta/lu\(i)" : nil
            c.logicalUnits.append(.init(guid: guid, provider: SBDProvider.name, file: "/data/lu\(i).img",
                                        size: UInt64(i + 1) << 20, properties: p.propertyBag, online: i % 5 != 0,
                                        reservations: i % 11 == 0 ? Array(repeating: UInt8(i & 0xFF), count: 300) : nil))
        }
        for g in 0..<groups {
            c.hostGroups.append(GroupInfo(name: "hg\(g)", members: (0..<4).map { String(format: "wwn.21%014X", g * 4 + $0) }))
            c.targetGroups.append(GroupInfo(name: "tg\(g)", members: [String(format: "wwn.50%014X", g)]))
        }
        for (i, lu) in c.logicalUnits.enumerated() {
            c.viewEntries.append(ViewEntryInfo(lu: lu.guid, entry: 0, hostGroup: "hg\(i % groups)", targetGroup: nil, lun: UInt16(i / groups)))
        }
        return c
    }

    @Test func twentyThousandLUsRoundTripThroughTheDocumentAndTheStore() throws {
        let c = Self.bigConfiguration(lus: 20_000)
        let doc = try ExportDocument.encode(c, exportedAt: "now")
        #expect(doc.count > 20_000 * 400)
        #expect(try ExportDocument.decode(doc).configuration == c)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-scale-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ConfigStore(path: dir.appendingPathComponent("stmf.db").path)
        try store.replace(with: c)
        let loaded = try ConfigStore(path: dir.appendingPathComponent("stmf.db").path).load()
        #expect(loaded.logicalUnits == c.logicalUnits)
        #expect(loaded.hostGroups == c.hostGroups)
        #expect(loaded.targetGroups == c.targetGroups)
        #expect(loaded.viewEntries == c.viewEntries.sorted { ($0.lu, $0.entry) < ($1.lu, $1.entry) })
    }

    @Test func everySingleByteChangeOfADocumentIsDetected() throws {
        let doc = try ExportDocument.encode(Self.bigConfiguration(lus: 3, groups: 2), exportedAt: "now")
        var undetected = 0
        let headerEnd = doc.firstIndex(of: 0x0A)!
        for i in Array(0...headerEnd) + Array(stride(from: headerEnd + 1, to: doc.count, by: 5)) {
            var d = doc
            d[i] ^= 0x01
            if (try? ExportDocument.decode(d)) != nil { undetected += 1 }
        }
        #expect(undetected == 0)
        for n in [0, 1, doc.count / 2, doc.count - 1] {
            #expect(throws: ExportDocument.DecodeError.self) { try ExportDocument.decode(Array(doc.prefix(n))) }
        }
    }
}
