import Foundation
import STMF
import STMFAPI

/// stmfadm export / import.
extension ServiceCore {
    /// The whole configuration from the store, with each live LU's current reservation state.
    public func export() throws(ServiceError) -> [UInt8] {
        var c: StoredConfiguration
        do { c = try store.load() } catch { throw .storeFailed(error) }
        for i in c.logicalUnits.indices {
            if let g = LUGUID(c.logicalUnits[i].guid), let lu = luRuntimes[g]?.lu {
                c.logicalUnits[i].reservations = lu.reservations
            }
        }
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
    public func importConfiguration(_ bytes: [UInt8], replace: Bool, peer: PeerCredentials? = nil) async throws(ServiceError) {
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
        // Commit, then swap the live state.
        do { try store.replace(with: c) } catch { throw .storeFailed(error) }
        await stopPorts()
        await closeLogicalUnits()
        luRuntimes = [:]
        stmf.replaceViews(v)
        portRecords = Dictionary(c.targetPorts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        await loadLogicalUnits(c.logicalUnits)
        await startPorts()
        logger.info("configuration imported", metadata: ["lus": "\(c.logicalUnits.count)", "replace": "\(replace)"])
    }
}
