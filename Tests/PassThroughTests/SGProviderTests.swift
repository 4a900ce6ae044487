@testable import PassThrough
import Runtime
import STMF
import Testing

/// The sg provider's management rules that need no device: which properties it takes, that an
/// LU is never imported, and the GUID a device's designators give.
struct SGProviderTests {
    let provider = SGProvider(loops: .shared, control: EventLoopGroup.shared.next(), stateDirectory: nil)

    @Test func createTakesAnAliasAndNothingTheDeviceSays() throws {
        #expect(try provider.normalize(["ALIAS": "tape-1"], for: .create) == ["alias": "tape-1"])
        for bad in [["size": "1m"], ["vid": "FAKE"], ["designators": "00"], ["alias": "a\u{1}b"], ["wcd": "true"]] {
            #expect(throws: LUProviderError.self, "\(bad)") { try provider.normalize(bad, for: .create) }
        }
        // What stmfd stored comes back through .import unchanged (it reopens LUs with it).
        let stored = ["designators": "0103000833333330000007d0", "vid": "Linux", "reservations": "emulated by STMF", "guid": "600144F0000000000000000000000001"]
        #expect(try provider.normalize(stored, for: .import) == stored)
        #expect(throws: LUProviderError.self) { try provider.normalize(["vid": "X"], for: .modify) }
    }

    @Test func anSGLUIsNeverImportedAndAPathMustBeADevice() {
        #expect(throws: LUProviderError(.invalidRequest, code: "NOT_IMPORTABLE",
                                        "sg LUs keep nothing on their device to import: create the LU with create-lu -p provider=sg")) {
            _ = try provider.importLU(source: "/dev/sg0", properties: [:])
        }
        for path in ["relative/sg0", "/nonexistent/sg9", "/etc/hostname", "/tmp"] {
            #expect(throws: LUProviderError.self, "\(path)") { _ = try provider.resolve(source: path, properties: [:]) }
        }
    }

    @Test func theGUIDIsTheDevicesNAA6ElseDerivedStablyFromItsDesignators() {
        let naa6: [UInt8] = [0x60, 0x01, 0x40, 0x50, 0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]
        let t10: [UInt8] = [0x02, 0x01, 0x00, 0x04] + Array("ABCD".utf8)
        #expect(SGProvider.guid(for: t10 + [0x01, 0x03, 0x00, 0x10] + naa6) == LUGUID(bytes: naa6))
        let naa3: [UInt8] = [0x01, 0x03, 0x00, 0x08, 0x33, 0x33, 0x33, 0x30, 0x00, 0x00, 0x07, 0xD0]
        let g = SGProvider.guid(for: naa3)
        #expect(g == SGProvider.guid(for: naa3), "the same device gives the same GUID")
        #expect(g.description.hasPrefix("600144F0") && g != SGProvider.guid(for: t10))
        #expect(SGProvider.bytes(hex: SGProvider.hex(naa3)) == naa3)
        #expect(SGProvider.bytes(hex: "0g") == nil && SGProvider.bytes(hex: "abc") == nil)
    }

    @Test func vpd83PagesAreReadDesignatorByDesignator() {
        let lu: [UInt8] = [0x01, 0x03, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]
        let port: [UInt8] = [0x61, 0x93, 0x00, 0x08, 9, 9, 9, 9, 9, 9, 9, 9]
        #expect(PassThroughLogicalUnit.Identity.logicalUnitDesignators(page: [0, 0x83, 0, 24] + lu + port) == lu)
        #expect(PassThroughLogicalUnit.Identity.logicalUnitDesignators(page: [0, 0x83, 0, 12] + Array(lu.prefix(10))) == nil, "runs past the page")
        #expect(PassThroughLogicalUnit.Identity.logicalUnitDesignators(page: [0, 0x80, 0, 0]) == nil)
    }
}
