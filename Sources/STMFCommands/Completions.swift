import ArgumentParser
import Foundation
import STMFAPI
import STMFClient
import Udev

/// Shell completions with what the running stmfd has: LU GUIDs, group names, property names,
/// target and initiator port names, WWNs. The shell runs the command itself to complete a word
/// (swift-argument-parser's custom completions); nothing is offered when no stmfd answers
/// within a second, so completion never hangs.
enum Completions {
    /// The state directory the command line being completed names (`--state-dir X` or
    /// `--state-dir=X`), else the usual one.
    static func client(_ words: [String]) -> APIClient {
        var dir: String?
        for (i, w) in words.enumerated() {
            if w == "--state-dir", i + 1 < words.count { dir = words[i + 1] }
            if w.hasPrefix("--state-dir=") { dir = String(w.dropFirst("--state-dir=".count)) }
        }
        return APIClient(stateDirectory: StateDirectory.resolve(dir), timeoutSeconds: 1)
    }

    static func fetch<T: Decodable>(_ words: [String], _ path: String, as: T.Type) -> T? {
        try? client(words).call("GET", path, as: T.self)
    }

    static func matching(_ values: [String], _ prefix: String) -> [String] {
        let lower = prefix.lowercased()
        return values.filter { $0.lowercased().hasPrefix(lower) }
    }

    /// LU GUIDs.
    static let guids = CompletionKind.custom { words, _, prefix in
        matching(fetch(words, "/v1/lus", as: [LUInfo].self)?.map(\.guid) ?? [], prefix)
    }

    static let hostGroups = CompletionKind.custom { words, _, prefix in
        matching(fetch(words, "/v1/host-groups", as: [GroupInfo].self)?.map(\.name) ?? [], prefix)
    }

    static let targetGroups = CompletionKind.custom { words, _, prefix in
        matching(fetch(words, "/v1/target-groups", as: [GroupInfo].self)?.map(\.name) ?? [], prefix)
    }

    /// `name=` for every LU property the registered providers take.
    static let properties = CompletionKind.custom { words, _, prefix in
        let names = (fetch(words, "/v1/providers", as: [ProviderInfo].self) ?? [])
            .filter { $0.kind == "logical-unit" }.flatMap(\.properties).map { $0.name + "=" }
        return matching(Array(Set(names)).sorted(), prefix)
    }

    /// Target port names (`wwn.…`).
    static let targets = CompletionKind.custom { words, _, prefix in
        matching(fetch(words, "/v1/targets", as: [TargetInfo].self)?.map(\.name) ?? [], prefix)
    }

    /// Initiator port names: the members of host groups and the initiators logged in now.
    static let initiators = CompletionKind.custom { words, _, prefix in
        let members = fetch(words, "/v1/host-groups", as: [GroupInfo].self)?.flatMap(\.members) ?? []
        let logged = fetch(words, "/v1/targets", as: [TargetInfo].self)?.flatMap { $0.sessions.map(\.initiator) } ?? []
        return matching(Array(Set(members + logged)).sorted(), prefix)
    }

    /// Target group members: the target ports.
    static let targetPorts = targets

    /// FC port WWNs: this machine's HBA ports (udev) and stmfd's emulated ports.
    static let wwns = CompletionKind.custom { words, _, prefix in
        let hba = (try? HBAPortListing.discovery.scan().ports.map(\.portWWN)) ?? []
        let emulated = fetch(words, "/v1/fc/ports", as: [FCPortInfo].self)?.map { $0.portWWN.lowercased() } ?? []
        return matching(Array(Set(hba + emulated)).sorted(), prefix)
    }

    /// Remote port WWNs known to stmfd's emulated ports.
    static let remoteWWNs = CompletionKind.custom { words, _, prefix in
        let remotes = fetch(words, "/v1/fc/ports", as: [FCPortInfo].self)?.flatMap { $0.remotePorts.map { $0.portWWN.lowercased() } } ?? []
        return matching(Array(Set(remotes)).sorted(), prefix)
    }

    /// Restore points (`stmfadm restore`).
    static let backups = CompletionKind.custom { words, _, prefix in
        matching(fetch(words, "/v1/backups", as: [BackupInfo].self)?.map(\.name) ?? [], prefix)
    }
}
