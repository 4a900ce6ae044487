import Foundation
import Testing
@testable import Udev

/// The alias tables, line by line: the kernel's modules.alias (a real Debian 12 table's FC
/// lines, Fixtures/modules.alias) and the Solaris-form override file.
@Suite("Driver alias tables")
struct AliasTableTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func modulesAliasClaimsQLogicEmulexAndBrocadeDevices() throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("modules.alias"), encoding: .utf8)
        let table = ModuleAliases(text: text)
        #expect(table.entries.count > 50)
        // QLE2562 (ISP2532), QLE2742 (ISP2261), an Emulex LPe32000, a Brocade 1860, an Intel NIC.
        #expect(table.modules(matching: "pci:v00001077d00002532sv00001077sd0000015Dbc0Csc04i00") == ["qla2xxx"])
        #expect(table.modules(matching: "pci:v00001077d00002261sv00001077sd000001E2bc0Csc04i00") == ["qla2xxx"])
        #expect(table.modules(matching: "pci:v000010DFd0000E300sv000010DFsd0000E310bc0Csc04i00") == ["lpfc"])
        #expect(table.modules(matching: "pci:v00001657d00000022sv00001657sd00000022bc0Csc04i00").contains("bfa"))
        #expect(table.modules(matching: "pci:v00008086d00005510sv00008086sd00000000bc02sc00i00") == ["e1000e"])
        // No FC driver claims a device nobody makes.
        #expect(table.modules(matching: "pci:v00001077d0000FFFEsv00001077sd00000000bc0Csc04i00").isEmpty)
    }

    /// The HBA watch loads the table every scan: an unchanged file is parsed once, a changed
    /// one (new depmod) again, a removed one is absent.
    @Test func modulesAliasIsReparsedOnlyWhenTheFileChanges() throws {
        let path = NSTemporaryDirectory() + "modules.alias-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "alias pci:v00001077d00002532sv*sd*bc*sc*i* qla2xxx\n".write(toFile: path, atomically: false, encoding: .utf8)
        let id = "pci:v00001077d00002532sv00001077sd0000015Dbc0Csc04i00"
        let other = "pci:v000010DFd0000F100sv*sd*bc0Csc04i00"
        #expect(ModuleAliases.load(path: path)?.modules(matching: id) == ["qla2xxx"])
        #expect(ModuleAliases.load(path: path)?.modules(matching: other) == [])
        // A rewritten table (another size, another mtime) is read again.
        try "alias pci:v00001077d00002532sv*sd*bc*sc*i* qla2xxx\nalias pci:v000010DFd0000F100sv*sd*bc*sc*i* lpfc\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(ModuleAliases.load(path: path)?.modules(matching: other) == ["lpfc"])
        try FileManager.default.removeItem(atPath: path)
        #expect(ModuleAliases.load(path: path) == nil)
    }

    @Test func modulesAliasSkipsWhatIsNotAPCIAlias() {
        let t = ModuleAliases(text: """
            # Aliases extracted from modules themselves.
            alias fs-xfs xfs
            alias pci:v00001077d00002532sv*sd*bc*sc*i* qla2xxx
            alias pci:v00001077d00002532sv*sd*bc*sc*i* qla2xxx
            alias usb:v*p*d*dc*dsc*dp*ic09isc00ip*in* usbcore
            alias broken
            """)
        #expect(t.entries.count == 2)
        #expect(t.modules(matching: "pci:v00001077d00002532sv00001077sd0000015Dbc0Csc04i00") == ["qla2xxx"])
    }

    @Test func overrideFileGoodLines() {
        let o = DriverAliasOverrides(text: """
            # swift-stmf driver alias overrides
            qla2xxx "pci1077,2532"
            qla2xxx "pciex1077,2989"    # a newer ISP this kernel's table lacks

            lpfc "pci10df,e300.10df.e310"
            \tqla2xxx\t"pci1077,2261"
            """)
        #expect(o.problems == [])
        #expect(o.entries.map(\.line) == [2, 3, 5, 6])
        #expect(o.drivers(for: PCIIdentity(vendor: 0x1077, device: 0x2989)) == ["qla2xxx"])
        #expect(o.drivers(for: PCIIdentity(vendor: 0x10df, device: 0xe300, subsystemVendor: 0x10df, subsystemDevice: 0xe310)) == ["lpfc"])
        // The subsystem form applies only to that subsystem.
        #expect(o.drivers(for: PCIIdentity(vendor: 0x10df, device: 0xe300, subsystemVendor: 0x10df, subsystemDevice: 0xe311)) == [])
        #expect(o.drivers(for: PCIIdentity(vendor: 0x8086, device: 0x10d3)) == [])
    }

    @Test func overrideFixtureFiles() throws {
        // Every binding line of the good file (illumos's own qlc and e1000g lines among them).
        let good = DriverAliasOverrides.load(path: Self.fixtures.appendingPathComponent("driver_aliases.good").path)
        #expect(good.problems == [])
        #expect(good.entries.count == 12)
        #expect(good.drivers(for: PCIIdentity(vendor: 0x1077, device: 0x2532)) == ["qla2xxx", "qlc"])
        #expect(good.drivers(for: PCIIdentity(vendor: 0x8086, device: 0x1004, subsystemVendor: 0x0e11, subsystemDevice: 0x49)) == ["e1000g"])
        // The bad file: the expected result per line is in Fixtures/README.md.
        let bad = DriverAliasOverrides.load(path: Self.fixtures.appendingPathComponent("driver_aliases.bad").path)
        #expect(bad.entries.map(\.line) == [2, 15, 23, 25])
        #expect(bad.problems.map(\.line) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 26])
    }

    @Test func overrideFileBadLinesAreReportedAndTheRestApplies() {
        let o = DriverAliasOverrides(text: """
            qla2xxx "pci1077,2532"
            qla2xxx pci1077,2031
            qla2xxx "pci1077,2031
            qla2xxx "usb1077,2031"
            qla2xxx "pci1077,20g1"
            qla2xxx "pci1077"
            qla2xxx "pci1077,2031" trailing
            qla/2xxx "pci1077,2031"
            lpfc
            qla2xxx "pci1077,2031.1077"
            qla2xxx "pci12345,2031"
            qla2xxx "pci1077,2261"
            """)
        #expect(o.entries.map(\.line) == [1, 12])
        #expect(o.problems.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        let text = o.problems.map(\.description)
        #expect(text[0].contains("double quotes"))
        #expect(text[1].contains("closing double quote"))
        #expect(text[2].contains("not a PCI alias"))
        #expect(text[3].contains("\"20g1\" is not 1 to 4 hex digits"))
        #expect(text[4].contains("separated by a comma"))
        #expect(text[5].contains("after the alias"))
        #expect(text[6].contains("not a driver name"))
        #expect(text[7].contains("no alias"))
        #expect(text[8].contains(".SSSS.ssss"))
        #expect(text[9].contains("\"12345\" is not 1 to 4 hex digits"))
        #expect(o.drivers(for: PCIIdentity(vendor: 0x1077, device: 0x2261)) == ["qla2xxx"])
    }

    @Test func qlogicHostModeAttribute() {
        #expect(QLogicMode.parseHostAttribute("Supported options: enabled | disabled | dual | exclusive\nCurrent selection: dual") == "dual")
        #expect(QLogicMode.parseHostAttribute("Supported options: enabled | disabled | dual | exclusive\nCurrent selection: enabled\n") == "enabled")
        #expect(QLogicMode.parseHostAttribute("exclusive") == "exclusive")
        #expect(QLogicMode.parseHostAttribute("garbage") == nil)
    }

    @Test func sysfsValueFormats() {
        #expect(HBADiscovery.wwn("0x21000024ff3d0001") == "21000024ff3d0001")
        #expect(HBADiscovery.wwn("0x1000000109b0c0d") == "01000000109b0c0d")
        #expect(HBADiscovery.wwn("0x") == nil)
        #expect(HBADiscovery.wwn("0x1ffffffffffffffff") == nil)
        #expect(HBADiscovery.hexValue("0xffffffffffffffff") == UInt64.max)
        #expect(HBADiscovery.list("2 Gbit, 4 Gbit, 8 Gbit") == ["2 Gbit", "4 Gbit", "8 Gbit"])
        #expect(HBADiscovery.list("unknown") == [])
    }
}
