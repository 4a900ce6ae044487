import Foundation
import STMF
import STMFAPI

/// stmfadm export / import.
extension ServiceCore {
    /// The whole configuration from the store, with each live LU's current reservation state.
    func currentConfiguration() throws(ServiceError) -> StoredConfiguration {
        var c: StoredConfiguration
        do { c = try store.load() } catch { throw .storeFailed(error) }
        for i in c.logicalUnits.indices {
            if let g = LUGUID(c.logicalUnits[i].guid), let lu = luRuntimes[g]?.lu {
                c.logicalUnits[i].reservations = lu.reservations
            }
        }
        return c
    }

    public func export() throws(ServiceError) -> [UInt8] {
        let c = try currentConfiguration()
        let stamp = ISO8601DateFormatter().string(from: Date())
        do { return try ExportDocument.encode(c, exportedAt: stamp) } catch {
            throw ServiceError(500, "EXPORT_FAILED", "cannot encode the configuration: \(error)")
        }
    }

    var isEmpty: Bool {
        let v = stmf.views
        return luRuntimes.isEmpty && v.hostGroups.isEmpty && v.targetGroups.isEmpty && v.allViewEntries.isEmpty
    }

    /// Verifies the document, then applies it all or nothing: to an empty service, or in place
    /// of the current configuration when `replace` is set.
    /// Returns the restore point made of the configuration it replaced (nil when there was
    /// nothing to keep or restore points are off). `reason`: what the restore point says it
    /// was made for ("import", "restore").
    @discardableResult
    public func importConfiguration(_ bytes: [UInt8], replace: Bool, peer: PeerCredentials? = nil,
                                    reason: String = "import") async throws(ServiceError) -> String? {
        let body: ExportDocument.Body
        do throws(ExportDocument.DecodeError) { body = try ExportDocument.decode(bytes) } catch {
            throw ServiceError(422, "IMPORT_DAMAGED", error.description)
        }
        guard replace || isEmpty else {
            throw .conflict("the service already has a configuration; import with --replace to replace it", code: "NOT_EMPTY")
        }
        // Validate everything before touching anything; LUs are stored as their providers
        // normalise them.
        let c: StoredConfiguration
        let v: ViewConfiguration
        do {
            v = try body.configuration.viewConfiguration()
            c = try body.configuration.checkingLogicalUnits(with: providers)
        } catch let e as ServiceError {
            throw ServiceError(422, "IMPORT_INVALID", "export is inconsistent: \(e.api.message)")
        } catch {
            throw ServiceError(422, "IMPORT_INVALID", "export is inconsistent: \(error)")
        }
        // A peer that is not root names only backing files it could open itself (403, not 422:
        // the document is fine, the requester may not use it).
        for lu in c.logicalUnits { try checkPeerAccess(files(of: lu), peer) }
        // The configuration it replaces is kept first; without that, nothing is replaced.
        var kept: String?
        if replace && !isEmpty, let points = restorePoints {
            let current = try currentConfiguration()
            do throws(RestorePoints.Failure) { kept = try points.save(current, reason: reason) } catch {
                throw ServiceError(500, "RESTORE_POINT_FAILED", "cannot keep the current configuration as a restore point, nothing was changed: \(error)")
            }
        }
        // Commit, then swap the live state.
        do { try store.replace(with: c) } catch { throw .storeFailed(error) }
        await stopPorts()
        await closeLogicalUnits()
        luRuntimes = [:]
        stmf.replaceViews(v)
        portRecords = Dictionary(c.targetPorts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        await loadLogicalUnits(c.logicalUnits)
        await startPorts()
        logger.info("configuration imported", metadata: ["lus": "\(c.logicalUnits.count)", "replace": "\(replace)",
                                                          "restorePoint": "\(kept ?? "none")"])
        return kept
    }

    // MARK: Restore points

    /// Keeps restore points with `points` from now on.
    public func enableRestorePoints(_ points: RestorePoints) { restorePoints = points }

    /// At start: the configuration as stmfd found it, unless the newest restore point already
    /// holds exactly that (restarts do not push older restore points out).
    @discardableResult
    public func makeStartRestorePoint() -> String? {
        guard let points = restorePoints, points.keep > 0 else { return nil }
        do {
            let c = try currentConfiguration()
            if c == StoredConfiguration() || points.newestConfiguration() == c { return nil }
            let name = try points.save(c, reason: "start")
            logger.info("restore point kept", metadata: ["name": "\(name ?? "")"])
            return name
        } catch {
            logger.error("cannot keep a restore point of the configuration at start", metadata: ["error": "\(error)"])
            return nil
        }
    }

    public func backups() -> [BackupInfo] { restorePoints?.list() ?? [] }

    /// stmfadm restore NAME: the restore point applied as an import --replace (the configuration
    /// it replaces is kept as a restore point of its own first).
    public func restore(_ name: String, peer: PeerCredentials? = nil) async throws(ServiceError) -> RestoreResult {
        guard let bytes = restorePoints?.document(name) else {
            throw .notFound("\(name): no such restore point (stmfadm list-backups lists them)", code: "BACKUP_NOT_FOUND")
        }
        let previous = try await importConfiguration(bytes, replace: true, peer: peer, reason: "restore")
        logger.info("configuration restored", metadata: ["from": "\(name)", "previous": "\(previous ?? "none")"])
        return RestoreResult(restored: name, previous: previous)
    }
}
