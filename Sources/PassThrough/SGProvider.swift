#if canImport(Glibc)
import Glibc
#endif
import Locking
import Runtime
import STMF

/// `sg`: an existing SCSI device of this machine exported as an LU (`stmfadm create-lu -p
/// provider=sg /dev/sgN`, or `/dev/sdX`, `/dev/st0`, `/dev/disk/by-id/…`). The LU is kept by
/// the device's identity — its VPD 0x83 logical-unit designators, stored as the `designators`
/// property — so it comes back on the right device after a reboot renames the sg node; its GUID
/// is the device's NAA-6 designator where it has one, else derived from its designators (or,
/// for a device with none, generated and kept in the store). Persistent reservations are
/// STMF's (`PassThroughLogicalUnit`), kept for APTPL in `<state>/sg-reservations/<GUID>`.
public struct SGProvider: LUProvider {
    public static let providerName = "sg"
    public var name: String { Self.providerName }
    public var summary: String { "existing SCSI devices (Linux SCSI generic) passed through; reservations and port identities kept STMF's" }
    public var properties: [ProviderPropertyHelp] {
        [.init(LUPropertyName.alias, "a name for the LU", operations: [.create, .modify]),
         .init(Self.designatorsProperty, "the device's VPD 0x83 logical-unit designators (hex): how the LU finds its device (set by stmfd)", operations: []),
         .init(Self.reservationsProperty, "who answers PERSISTENT RESERVE and RESERVE/RELEASE: \"emulated by STMF\" (set by stmfd)", operations: [])]
    }
    public var maximumSize: UInt64 { UInt64.max }

    static let designatorsProperty = "designators"
    static let reservationsProperty = "reservations"
    static let typeProperty = "device-type"
    static let emulated = "emulated by STMF"

    let loops: EventLoopGroup
    let control: EventLoop
    /// Where APTPL reservations are kept (nil: in memory only).
    let stateDirectory: String?
    let sysRoot: String
    let devRoot: String

    public init(loops: EventLoopGroup, control: EventLoop, stateDirectory: String?, sysRoot: String = "/sys", devRoot: String = "/dev") {
        self.loops = loops; self.control = control; self.stateDirectory = stateDirectory
        self.sysRoot = sysRoot; self.devRoot = devRoot
    }

    static func invalid(_ message: String, code: String = "INVALID_PROPERTY") -> LUProviderError { LUProviderError(.invalidRequest, code: code, message) }

    public func normalize(_ properties: [String: String], for operation: LUOperation) throws(LUProviderError) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in properties {
            let key = k.lowercased()
            switch key {
            case LUPropertyName.alias:
                guard v.allSatisfy({ $0.asciiValue.map { $0 >= 0x20 && $0 != 0x7F } ?? true }) else { throw Self.invalid("alias: control characters are not allowed") }
                out[key] = v
            case Self.designatorsProperty, Self.reservationsProperty, Self.typeProperty, LUPropertyName.vendorID,
                 LUPropertyName.productID, LUPropertyName.revision, LUPropertyName.serial, LUPropertyName.blockSize, LUPropertyName.guid:
                // What stmfd sets from the device: taken back as stored, never from a create.
                guard operation != .modify else { throw Self.invalid("\(key): set from the device; it cannot be changed") }
                if operation == .create && key != LUPropertyName.guid { throw Self.invalid("\(key): set from the device, not given") }
                out[key] = v
            default:
                throw Self.invalid("\(k): not a property of the sg provider (it takes: alias)")
            }
        }
        return out
    }

    public func resolve(source: String, properties: [String: String]) throws(LUProviderError) -> (source: String, properties: [String: String]) {
        do throws(SGProbeError) {
            let node = try SGProbe.sgNode(for: source, sysRoot: sysRoot, devRoot: devRoot)
            let info = try SGProbe.probe(sgPath: node)
            return (node, properties.merging(Self.deviceProperties(info)) { given, _ in given })
        } catch {
            throw LUProviderError(.invalidRequest, code: "NOT_A_SCSI_DEVICE", error.message)
        }
    }

    public func files(source: String, properties: [String: String]) -> [String] { [source] }

    public func create(source: String, properties: [String: String], overwrite: Bool) throws(LUProviderError) -> any ManagedLogicalUnit {
        let info = try probe(source)
        let guid = properties[LUPropertyName.guid].flatMap(LUGUID.init) ?? Self.guid(for: info.identity.designators)
        return try make(guid: guid, info: info, properties: properties.merging(Self.deviceProperties(info)) { _, device in device },
                        reservations: ReservationState())
    }

    public func importLU(source: String, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit {
        throw LUProviderError(.invalidRequest, code: "NOT_IMPORTABLE", "sg LUs keep nothing on their device to import: create the LU with create-lu -p provider=sg")
    }

    public func open(guid: LUGUID, source: String, size: UInt64, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit {
        // The device by its identity first (sg nodes are renumbered across reboots), else where it was.
        let wanted = properties[Self.designatorsProperty].flatMap(Self.bytes(hex:)) ?? []
        // The same device: its designators, and what it says it is (a node reused by another
        // device, or a device that changed its nature, is not this LU's).
        func isThisLUs(_ i: SGDeviceInfo) -> Bool {
            let p = Self.deviceProperties(i)
            return i.identity.designators == wanted
                && [Self.typeProperty, LUPropertyName.vendorID, LUPropertyName.productID, LUPropertyName.serial].allSatisfy { properties[$0] == p[$0] }
        }
        var info: SGDeviceInfo?
        if let i = try? SGProbe.probe(sgPath: source), isThisLUs(i) { info = i }
        if info == nil, !wanted.isEmpty, let node = SGProbe.find(designators: wanted, sysRoot: sysRoot, devRoot: devRoot),
           let i = try? SGProbe.probe(sgPath: node), isThisLUs(i) {
            info = i
        }
        guard let info else {
            throw LUProviderError(.failed, code: "DEVICE_MISSING", "the SCSI device of this LU (\(properties[LUPropertyName.vendorID] ?? "") \(properties[LUPropertyName.productID] ?? "") \(properties[Self.typeProperty] ?? "device") last at \(source), designators \(properties[Self.designatorsProperty].map { $0.isEmpty ? "none" : $0 } ?? "none")) is not on this machine now")
        }
        let reservations = (try? loadReservations(guid)) ?? ReservationState()
        return try make(guid: guid, info: info, properties: properties.merging(Self.deviceProperties(info)) { _, device in device },
                        reservations: reservations)
    }

    private func probe(_ source: String) throws(LUProviderError) -> SGDeviceInfo {
        do throws(SGProbeError) { return try SGProbe.probe(sgPath: source) } catch {
            throw LUProviderError(.invalidRequest, code: "NOT_A_SCSI_DEVICE", error.message)
        }
    }

    private func make(guid: LUGUID, info: SGDeviceInfo, properties: [String: String], reservations: ReservationState) throws(LUProviderError) -> any ManagedLogicalUnit {
        let device: SGDevice
        do { device = try SGDevice(path: info.sgPath, loop: loops.next()) } catch {
            throw LUProviderError(.failed, code: "DEVICE_OPEN_FAILED", "\(error)")
        }
        var properties = properties
        properties[LUPropertyName.guid] = guid.description
        let file = reservationFile(guid)
        let lu = PassThroughLogicalUnit(guid: guid, alias: properties[LUPropertyName.alias] ?? "", identity: info.identity, device: device,
                                        control: control, vendorID: info.vendor, reservations: reservations) { state in
            try Self.persist(state, to: file)
        }
        return SGManagedLU(lu: lu, device: device, size: info.size, properties: properties, reservationFile: file)
    }

    /// What stmfd records of the device (shown by list-lu -v; the designators find it again).
    static func deviceProperties(_ info: SGDeviceInfo) -> [String: String] {
        var p = [designatorsProperty: hex(info.identity.designators), reservationsProperty: emulated,
                 typeProperty: typeName(info.identity.peripheralDeviceType),
                 LUPropertyName.vendorID: info.vendor, LUPropertyName.productID: info.product, LUPropertyName.revision: info.revision,
                 LUPropertyName.serial: info.serial]
        if let b = info.identity.blockSize { p[LUPropertyName.blockSize] = "\(b)" }
        return p
    }

    static func typeName(_ t: UInt8) -> String {
        switch t {
        case 0x00: "disk"
        case 0x01: "tape"
        case 0x05: "cd/dvd"
        case 0x08: "media changer"
        default: "type 0x\(String(t, radix: 16))"
        }
    }

    /// The LU's GUID from the device's designators: its NAA-6 (16 bytes) as it is, else STMF's
    /// OUI with 88 bits of an FNV-1a hash of the designators; random for a device without any
    /// (kept in the store from then on).
    static func guid(for designators: [UInt8]) -> LUGUID {
        var at = 0
        while at + 4 <= designators.count {
            let length = Int(designators[at + 3])
            if designators[at + 1] & 0x0F == 3, length == 16, at + 4 + 16 <= designators.count, designators[at + 4] >> 4 == 6,
               let g = LUGUID(bytes: Array(designators[(at + 4)..<(at + 20)])) {
                return g
            }
            at += 4 + length
        }
        var h1: UInt64 = 0xCBF2_9CE4_8422_2325, h2: UInt64 = 0x8422_2325_CBF2_9CE4
        let bytes = designators.isEmpty ? (0..<16).map { _ in UInt8.random(in: 0...255) } : designators
        for b in bytes {
            h1 = (h1 ^ UInt64(b)) &* 0x0000_0100_0000_01B3
            h2 = (h2 ^ UInt64(b ^ 0x5A)) &* 0x0000_0100_0000_01B3
        }
        // 6 | OUI 00144F | 0 | 24 bits | 64 bits, as COMSTAR's GUIDs are laid out.
        return LUGUID(high: 0x6001_44F0_0000_0000 | (h1 & 0xFF_FFFF), low: h2)
    }

    static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s: [UInt8] = []
        for x in b { s.append(digits[Int(x >> 4)]); s.append(digits[Int(x & 0xF)]) }
        return String(decoding: s, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            guard let hi = UInt8(String(decoding: u[i..<i + 1], as: UTF8.self), radix: 16),
                  let lo = UInt8(String(decoding: u[i + 1..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    // MARK: Reservations kept for APTPL

    func reservationFile(_ guid: LUGUID) -> String? {
        stateDirectory.map { "\($0)/sg-reservations/\(guid)" }
    }

    func loadReservations(_ guid: LUGUID) throws -> ReservationState {
        guard let path = reservationFile(guid) else { return ReservationState() }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ReservationState() }
        defer { Glibc.close(fd) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        return try ReservationState(decoding: data)
    }

    /// Written to a new file, synced, then renamed over the old one: a crash leaves the old
    /// state or the new, never half of one.
    static func persist(_ state: ReservationState, to path: String?) throws {
        guard let path else { return }
        let dir = String(path[..<path.lastIndex(of: "/")!])
        mkdir(dir, 0o700)
        let bytes = state.persistThroughPowerLoss ? state.encoded() : []
        if bytes.isEmpty { unlink(path); return }
        let tmp = path + ".new"
        let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SGProbeError("\(tmp): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        Glibc.close(fd)
        guard written == bytes.count, synced, rename(tmp, path) == 0 else { throw SGProbeError("\(path): cannot be written") }
        let dfd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); Glibc.close(dfd) }
    }
}

/// A live sg LU as stmfd manages it.
final class SGManagedLU: ManagedLogicalUnit, @unchecked Sendable {
    let lu: PassThroughLogicalUnit
    let device: SGDevice
    let size: UInt64
    private let props: Locked<[String: String]>
    let reservationFile: String?

    init(lu: PassThroughLogicalUnit, device: SGDevice, size: UInt64, properties: [String: String], reservationFile: String?) {
        self.lu = lu; self.device = device; self.size = size; props = Locked(properties); self.reservationFile = reservationFile
    }

    var logicalUnit: any LogicalUnit { lu }
    var properties: [String: String] { props.withLock { $0 } }
    var reservations: [UInt8]? {
        let s = lu.reservationState
        return s.persistThroughPowerLoss ? s.encoded() : nil
    }

    func modify(_ properties: [String: String]) async throws(LUProviderError) {
        for (k, v) in properties {
            guard k == LUPropertyName.alias else { throw SGProvider.invalid("\(k): cannot be changed on an sg LU") }
            props.withLock { $0[k] = v }
        }
    }

    func watchAvailability(_ lost: @escaping @Sendable (String) -> Void) { lu.onDeviceLost = lost }

    func shutdown() async { device.close() }

    func delete(eraseMetadata: Bool) {
        device.close()
        if eraseMetadata, let f = reservationFile { unlink(f) }
    }
}
