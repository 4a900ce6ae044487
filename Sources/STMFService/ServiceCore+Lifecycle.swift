import Foundation
import STMF
import STMFAPI

extension ServiceCore {
    /// Reloads everything from the store: groups, members and views (entry numbers kept),
    /// then logical units and target ports with their desired states.
    public func load() async throws {
        configStatus = "loading"
        let c = try store.load()
        let v: ViewConfiguration
        do { v = try c.viewConfiguration() } catch {
            throw ConfigStore.StoreError.damaged("stored views are inconsistent: \(error)")
        }
        stmf.replaceViews(v)
        for p in c.targetPorts { portRecords[p.name] = p }
        let fileLUs = c.logicalUnits.filter { !files(of: $0).isEmpty }.count
        let fileLimit = DescriptorBudget.limit
        if fileLimit != Int.max, fileLUs + DescriptorBudget.reserve > fileLimit {
            logger.warning("the stored file LUs need more open files than stmfd may have; some will not load",
                           metadata: ["fileLUs": "\(fileLUs)", "limit": "\(fileLimit)",
                                      "remedy": "raise LimitNOFILE in stmfd.service (or ulimit -Hn) and restart stmfd"])
        }
        await loadLogicalUnits(c.logicalUnits)
        await startPorts()
        lio.finishStartup(stmf)
        startHBAWatch()
        startLUWatch()
        configStatus = "initialized"
        logger.info("configuration loaded", metadata: [
            "lus": "\(c.logicalUnits.count)", "hostGroups": "\(c.hostGroups.count)",
            "targetGroups": "\(c.targetGroups.count)", "views": "\(c.viewEntries.count)",
        ])
    }

    /// Clean shutdown: ports offline (sessions end, their commands finish or are aborted),
    /// then every LU synced and closed.
    public func shutdown() async {
        stopHBAWatch()
        stopLUWatch()
        for p in stmf.targetPorts() { try? await stmf.setTargetPortState(p.name, online: false) }
        await stopPorts()
        await closeLogicalUnits()
    }
}

extension StoredConfiguration {
    /// Replays groups, members and view entries (keeping entry numbers) through the same
    /// rules live changes obey, so an inconsistent store or export is refused.
    func viewConfiguration() throws -> ViewConfiguration {
        var v = ViewConfiguration()
        for g in hostGroups {
            try v.createHostGroup(g.name)
            for m in g.members { try v.addHostGroupMember(g.name, try PortIdentifier(parsing: m)) }
        }
        for g in targetGroups {
            try v.createTargetGroup(g.name)
            for m in g.members { try v.addTargetGroupMember(g.name, try PortIdentifier(parsing: m)) }
        }
        for e in viewEntries {
            guard let guid = LUGUID(e.lu) else { throw ServiceError.badRequest("view entry names \(e.lu)") }
            try v.addViewEntry(lu: guid, hostGroup: GroupReference(e.hostGroup), targetGroup: GroupReference(e.targetGroup),
                               lun: Int(e.lun), requestedID: e.entry)
        }
        return v
    }
}
