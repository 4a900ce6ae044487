import FCLink
import FCPort
import STMF

/// A logical unit seen behind a target port.
public struct DiscoveredLUN: Sendable, Equatable {
    public var lun: UInt16
    /// Standard INQUIRY data (nil if INQUIRY failed; see `error`).
    public var inquiry: InquiryData?
    /// READ CAPACITY(16) data for disks.
    public var capacity: ReadCapacityData?
    /// Why INQUIRY or READ CAPACITY failed.
    public var error: String?
}

/// A target port found in the name server.
public struct DiscoveredTarget: Sendable, Equatable {
    public var portID: FCID
    public var portName: WWN
    public var nodeName: WWN
    public var symbolicName: String
    /// Why login failed (PLOGI/PRLI refused, no answer); nil when logged in.
    public var loginError: String?
    /// Why REPORT LUNS failed, if it did.
    public var reportLUNsError: String?
    public var luns: [DiscoveredLUN]
}

extension FCInitiator {
    /// Walks the fabric as an HBA driver does: GID_FT(FCP), GFF_ID (keep ports with the target
    /// feature), GPN_ID/GNN_ID/GSPN_ID, PLOGI/PRLI, REPORT LUNS, and per LUN INQUIRY and, for
    /// disks, READ CAPACITY(16). A target that refuses login or shows no LUNs is still listed.
    public func discover() async throws(InitiatorError) -> [DiscoveredTarget] {
        guard let me = nport.portID else { throw .notOnline }
        let ids: [UInt32]
        do throws(NPortError) {
            guard case .portIDs(let list) = try await nport.nameServer(.gidFT(type: ServiceParameterPage.fcpType)) else {
                throw NPortError.malformedReply("GID_FT")
            }
            ids = list
        } catch {
            if case .nameServerRejected = error { return [] }   // no FCP ports at all
            throw .fabric("GID_FT: \(error)")
        }
        var out: [DiscoveredTarget] = []
        for raw in ids where raw != me.rawValue {
            let id = FCID(raw)
            guard case .features(let f)? = try? await nport.nameServer(.gffID(portID: raw)),
                  f[ServiceParameterPage.fcpType].contains(.target) else { continue }
            guard case .portName(let wwpn)? = try? await nport.nameServer(.gpnID(portID: raw)) else { continue }
            var node = WWN(0)
            if case .nodeName(let n)? = try? await nport.nameServer(.gnnID(portID: raw)) { node = n }
            var symbolic = ""
            if case .symbolicName(let s)? = try? await nport.nameServer(.gspnID(portID: raw)) {
                symbolic = String(decoding: s, as: UTF8.self)
            }
            var target = DiscoveredTarget(portID: id, portName: wwpn, nodeName: node, symbolicName: symbolic,
                                          loginError: nil, reportLUNsError: nil, luns: [])
            do {
                try await login(id: id)
            } catch {
                target.loginError = error.description
                out.append(target)
                continue
            }
            await probeLUNs(&target)
            out.append(target)
        }
        return out
    }

    /// REPORT LUNS, then INQUIRY and READ CAPACITY(16) per LUN.
    func probeLUNs(_ target: inout DiscoveredTarget) async {
        let wwpn = target.portName
        let lunList: [UInt16]
        do {
            let r = try await executeWithRetry(.reportLUNs(), target: wwpn, retries: 2)
            guard r.status == .good else { target.reportLUNsError = "REPORT LUNS: \(r.summary)"; return }
            lunList = parseReportLUNs(r.data)
        } catch {
            target.reportLUNsError = "REPORT LUNS: \(error)"
            return
        }
        for lun in lunList {
            target.luns.append(await probe(lun: lun, target: wwpn))
        }
    }

    /// INQUIRY and, for a disk, READ CAPACITY(16) of one LUN.
    public func probe(lun: UInt16, target wwpn: WWN) async -> DiscoveredLUN {
        var d = DiscoveredLUN(lun: lun)
        do {
            let r = try await executeWithRetry(.inquiry(lun: lun), target: wwpn, retries: 2)
            guard r.status == .good, let inq = InquiryData(parsing: r.data) else {
                d.error = "INQUIRY: \(r.summary)"
                return d
            }
            d.inquiry = inq
            guard inq.peripheralDeviceType == 0, inq.peripheralQualifier == 0 else { return d }
            let c = try await executeWithRetry(.readCapacity16(lun: lun), target: wwpn, retries: 2)
            guard c.status == .good, let cap = ReadCapacityData(parsing: c.data) else {
                d.error = "READ CAPACITY(16): \(c.summary)"
                return d
            }
            d.capacity = cap
        } catch {
            d.error = error.description
        }
        return d
    }
}
