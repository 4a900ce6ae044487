#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import STMF
import STMFAPI

/// The persisted configuration: SQLite through GRDB, WAL journal, synchronous=FULL, so a
/// change whose transaction committed survives a crash or power loss. Every mutation of the
/// service is one transaction here, committed before the change is acknowledged.
public final class ConfigStore: Sendable {
    let db: DatabaseQueue

    public enum StoreError: Error, CustomStringConvertible {
        case damaged(String)
        case tooNew(String)
        public var description: String {
            switch self {
            case let .damaged(m): "configuration database is damaged: \(m)"
            case let .tooNew(m): "configuration database was written by a newer stmfd: \(m)"
            }
        }
    }

    /// The directory holding the database (nil for an in-memory store).
    public let directory: String?

    public init(path: String) throws {
        directory = path.hasPrefix("/") ? String(path[..<path.lastIndex(of: "/")!]) : nil
        var config = GRDB.Configuration()
        config.journalMode = .wal
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // The database and its -wal and -shm files are 0640 whatever the umask (SQLite gives
        // the journal files the database's mode): created so here, corrected if they were not.
        if path.hasPrefix("/") {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
            if fd >= 0 { fchmod(fd, 0o640); close(fd) }
        }
        defer { if path.hasPrefix("/") { for suffix in ["-wal", "-shm"] { chmod(path + suffix, 0o640) } } }
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try db.read { db in
                let result = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer"
                guard result == "ok" else { throw StoreError.damaged(result) }
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.damaged("\(error)")
        }
        let migrator = Self.migrator
        let known = Set(migrator.migrations)
        let applied = try db.read { try migrator.appliedIdentifiers($0) }
        if let unknown = applied.first(where: { !known.contains($0) }) { throw StoreError.tooNew("unknown migration \(unknown)") }
        try migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "lu") { t in
                t.primaryKey("guid", .text)
                t.column("file", .text).notNull()
                t.column("meta", .text)
                t.column("size", .integer).notNull()
                t.column("properties", .text).notNull()      // JSON of SBD's typed properties (v2: a string bag)
                t.column("online", .boolean).notNull()
                t.column("reservations", .blob)               // APTPL state mirror for export
                t.column("seq", .integer).notNull()
            }
            try db.create(table: "host_group") { t in
                t.primaryKey("name", .text)
                t.column("seq", .integer).notNull()
            }
            try db.create(table: "host_group_member") { t in
                t.primaryKey("member", .text)
                t.column("grp", .text).notNull().references("host_group", column: "name", onDelete: .cascade)
                t.column("seq", .integer).notNull()
            }
            try db.create(table: "target_group") { t in
                t.primaryKey("name", .text)
                t.column("seq", .integer).notNull()
            }
            try db.create(table: "target_group_member") { t in
                t.primaryKey("member", .text)
                t.column("grp", .text).notNull().references("target_group", column: "name", onDelete: .cascade)
                t.column("seq", .integer).notNull()
            }
            try db.create(table: "view_entry") { t in
                t.column("lu", .text).notNull()
                t.column("id", .integer).notNull()
                t.column("hg", .text)
                t.column("tg", .text)
                t.column("lun", .integer).notNull()
                t.primaryKey(["lu", "id"])
            }
            try db.create(table: "target_port") { t in
                t.primaryKey("name", .text)
                t.column("provider", .text).notNull()
                t.column("alias", .text).notNull()
                t.column("properties", .text).notNull()      // provider-specific JSON
                t.column("online", .boolean).notNull()
                t.column("relative_id", .integer).notNull()
            }
            try db.create(index: "lu_seq", on: "lu", columns: ["seq"])
            try db.create(index: "host_group_seq", on: "host_group", columns: ["seq"])
            try db.create(index: "host_group_member_grp", on: "host_group_member", columns: ["grp", "seq"])
            try db.create(index: "target_group_seq", on: "target_group", columns: ["seq"])
            try db.create(index: "target_group_member_grp", on: "target_group_member", columns: ["grp", "seq"])
            try db.create(table: "setting") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
        }
        // The provider registry: each LU names its provider (every earlier one was SBD's), its
        // properties become the provider's bag of strings, and the meta file, which the bag
        // holds, leaves its own column.
        m.registerMigration("v2-lu-provider") { db in
            try db.alter(table: "lu") { t in t.add(column: "provider", .text).notNull().defaults(to: defaultLUProvider) }
            for row in try Row.fetchAll(db, sql: "SELECT guid, meta, properties FROM lu") {
                var bag = try PropertyBag.decode(json: Data((row["properties"] as String).utf8))
                if let meta: String = row["meta"], bag[LUPropertyName.metaFile] == nil { bag[LUPropertyName.metaFile] = meta }
                let json = String(decoding: try JSONEncoder.sorted.encode(bag), as: UTF8.self)
                try db.execute(sql: "UPDATE lu SET properties = ? WHERE guid = ?", arguments: [json, row["guid"] as String])
            }
            try db.alter(table: "lu") { t in t.drop(column: "meta") }
        }
        return m
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back if it throws).
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try db.write(body)
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try db.read(body)
    }

    // MARK: Whole-configuration load/save (start-up, export, import)

    public func load() throws -> StoredConfiguration {
        try db.read { db in try StoredConfiguration.fetch(db) }
    }

    /// Replaces everything with `config` in one transaction.
    public func replace(with config: StoredConfiguration) throws {
        try db.write { db in
            for t in ["view_entry", "host_group_member", "target_group_member", "host_group", "target_group", "lu", "target_port"] {
                try db.execute(sql: "DELETE FROM \(t)")
            }
            try config.insert(db)
        }
    }
}

/// Reading and writing the values of the store.
extension StoredConfiguration {
    static func fetch(_ db: Database) throws -> StoredConfiguration {
        var c = StoredConfiguration()
        let decoder = JSONDecoder()
        for row in try Row.fetchAll(db, sql: "SELECT * FROM lu ORDER BY seq") {
            let props = try decoder.decode([String: String].self, from: Data((row["properties"] as String).utf8))
            let blob: Data? = row["reservations"]
            c.logicalUnits.append(LU(guid: row["guid"], provider: row["provider"], file: row["file"],
                                     size: UInt64(row["size"] as Int64), properties: props, online: row["online"],
                                     reservations: blob.map { Array($0) }))
        }
        for (table, memberTable) in [("host_group", "host_group_member"), ("target_group", "target_group_member")] {
            var groups: [GroupInfo] = []
            for name in try String.fetchAll(db, sql: "SELECT name FROM \(table) ORDER BY seq") {
                let members = try String.fetchAll(db, sql: "SELECT member FROM \(memberTable) WHERE grp = ? ORDER BY seq", arguments: [name])
                groups.append(GroupInfo(name: name, members: members))
            }
            if table == "host_group" { c.hostGroups = groups } else { c.targetGroups = groups }
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM view_entry ORDER BY lu, id") {
            c.viewEntries.append(ViewEntryInfo(lu: row["lu"], entry: UInt32(row["id"] as Int64), hostGroup: row["hg"],
                                               targetGroup: row["tg"], lun: UInt16(row["lun"] as Int64)))
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM target_port ORDER BY relative_id") {
            let props = try decoder.decode([String: String].self, from: Data((row["properties"] as String).utf8))
            c.targetPorts.append(TargetPort(name: row["name"], provider: row["provider"], alias: row["alias"],
                                            properties: props, online: row["online"],
                                            relativeID: UInt16(row["relative_id"] as Int64)))
        }
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM setting") {
            c.settings[row["key"]] = row["value"]
        }
        return c
    }

    func insert(_ db: Database) throws {
        for (i, lu) in logicalUnits.enumerated() { try Self.insertLU(db, lu, seq: i) }
        for (i, g) in hostGroups.enumerated() {
            try db.execute(sql: "INSERT INTO host_group(name, seq) VALUES (?, ?)", arguments: [g.name, i])
            for (j, m) in g.members.enumerated() {
                try db.execute(sql: "INSERT INTO host_group_member(member, grp, seq) VALUES (?, ?, ?)", arguments: [m, g.name, j])
            }
        }
        for (i, g) in targetGroups.enumerated() {
            try db.execute(sql: "INSERT INTO target_group(name, seq) VALUES (?, ?)", arguments: [g.name, i])
            for (j, m) in g.members.enumerated() {
                try db.execute(sql: "INSERT INTO target_group_member(member, grp, seq) VALUES (?, ?, ?)", arguments: [m, g.name, j])
            }
        }
        for v in viewEntries { try Self.insertView(db, v) }
        for p in targetPorts { try Self.upsertPort(db, p) }
        for (k, v) in settings {
            try db.execute(sql: "INSERT OR REPLACE INTO setting(key, value) VALUES (?, ?)", arguments: [k, v])
        }
    }

    static func insertLU(_ db: Database, _ lu: LU, seq: Int? = nil) throws {
        let json = String(decoding: try JSONEncoder.sorted.encode(lu.properties), as: UTF8.self)
        let s = try seq ?? (Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), -1) + 1 FROM lu") ?? 0)
        try db.execute(sql: """
            INSERT OR REPLACE INTO lu(guid, provider, file, size, properties, online, reservations, seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT seq FROM lu WHERE guid = ?), ?))
            """, arguments: [lu.guid, lu.provider, lu.file, Int64(lu.size), json, lu.online,
                             lu.reservations.map { Data($0) }, lu.guid, s])
    }

    static func insertView(_ db: Database, _ v: ViewEntryInfo) throws {
        try db.execute(sql: "INSERT INTO view_entry(lu, id, hg, tg, lun) VALUES (?, ?, ?, ?, ?)",
                       arguments: [v.lu, Int64(v.entry), v.hostGroup, v.targetGroup, Int64(v.lun)])
    }

    static func upsertPort(_ db: Database, _ p: TargetPort) throws {
        let json = String(decoding: try JSONEncoder.sorted.encode(p.properties), as: UTF8.self)
        try db.execute(sql: """
            INSERT OR REPLACE INTO target_port(name, provider, alias, properties, online, relative_id)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [p.name, p.provider, p.alias, json, p.online, Int64(p.relativeID)])
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
