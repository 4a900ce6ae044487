import Testing
@testable import STMF

@Suite struct IdentifierTests {
    @Test func wwnParsesCaseInsensitivelyAndPrintsLikeCOMSTAR() throws {
        let a = try PortIdentifier(parsing: "wwn.210000e08b909221")
        let b = try PortIdentifier(parsing: "WWN.210000E08B909221")
        #expect(a == b)
        #expect(a.description == "wwn.210000E08B909221")
        #expect(WWN("21:00:00:e0:8b:90:92:21")?.rawValue == 0x2100_00E0_8B90_9221)
        #expect(WWN("0x210000e08b909221")?.colonSeparated == "21:00:00:e0:8b:90:92:21")
    }

    @Test(arguments: ["wwn.21000", "wwn.210000e08b90922g", "wwn.210000e08b9092211", "21000", "", "wwn.", "iqn.", "iqn.20x0-01.com.x", "eui.123", "wwn.21:00:00:e0:8b:90:92:21"])
    func invalidPortNamesAreRefused(_ s: String) {
        #expect(throws: PortIdentifier.ParseError.self) { try PortIdentifier(parsing: s) }
    }

    @Test func iqnAndEui() throws {
        let i = try PortIdentifier(parsing: "iqn.1986-03.com.sun:01:e00000000000.47d55444")
        #expect(i.protocolIdentifier == .iscsi)
        let e = try PortIdentifier(parsing: "eui.02004567A425678D")
        #expect(e.description == "eui.02004567A425678D")
    }

    @Test func transportIDsRoundTrip() throws {
        for name in ["wwn.210000E08B909221", "iqn.1994-05.com.redhat:abcdef"] {
            let id = try PortIdentifier(parsing: name)
            let t = id.transportID
            let parsed = t.withUnsafeBytes { PortIdentifier.parseTransportID($0) }
            #expect(parsed?.0 == id)
            #expect(parsed?.1 == t.count)
        }
        let fc = try PortIdentifier(parsing: "wwn.210000E08B909221").transportID
        #expect(fc.count == 24 && fc[0] == 0 && Array(fc[8..<16]) == [0x21, 0, 0, 0xE0, 0x8B, 0x90, 0x92, 0x21])
    }

    @Test func guidParsingAndPrinting() {
        let g = LUGUID("600144f0c8e8b4b900004d7e2a350001")
        #expect(g?.description == "600144F0C8E8B4B900004D7E2A350001")
        #expect(g?.oui == 0x00144F)
        #expect(LUGUID("500144f0c8e8b4b900004d7e2a350001") == nil)   // not NAA 6
        #expect(LUGUID("600144f0c8e8b4b900004d7e2a35000") == nil)
        #expect(LUGUID(bytes: g!.bytes) == g)
    }

    @Test func generatedGUIDsAreNAA6AndUnique() {
        let gen = LUGUIDGenerator(hostID: 0x1234_5678)
        var seen = Set<LUGUID>()
        for _ in 0..<10_000 { seen.insert(gen.next()) }
        #expect(seen.count == 10_000)
        let g = gen.next(oui: 0xABCDEF)
        #expect(g.high >> 60 == 6)
        #expect(g.oui == 0xABCDEF)
        #expect(UInt32(g.high & 0xFFFF_FFFF) == 0x1234_5678)
        // Another process (another counter start) in the same second still differs.
        let other = LUGUIDGenerator(hostID: 0x1234_5678)
        #expect(other.next(now: 5) != gen.next(now: 5))
    }

    @Test func lunAddressing() {
        #expect(LUNAddress(field: LUNAddress.field(for: 5)) == .lun(5))
        #expect(LUNAddress.field(for: 5) == 0x0005_0000_0000_0000)
        #expect(LUNAddress.field(for: 300) == 0x412C_0000_0000_0000)
        #expect(LUNAddress(field: 0x412C_0000_0000_0000) == .lun(300))
        #expect(LUNAddress(field: 0x0105_0000_0000_0000) == .unsupported)   // bus 1
        #expect(LUNAddress(field: 0x0005_0000_0000_0001) == .unsupported)   // second level
        #expect(LUNAddress(field: 0xC101_0000_0000_0000) == .reportLUNsWellKnown)
    }
}
