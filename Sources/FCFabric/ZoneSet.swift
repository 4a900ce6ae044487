import Foundation
import STMF

/// WWPN zoning (FC-GS-7 zone server semantics, hard zoning): two N_Ports may see and reach
/// each other only if some zone holds both port names. No zone set at all means every port
/// sees every other (a switch's "default zone: all access").
///
/// File format, one zone per line: `NAME: WWPN WWPN …` (WWPNs as 16 hex digits, with or
/// without colons or a `wwn.` prefix, separated by spaces or commas); `#` starts a comment.
public struct ZoneSet: Sendable, Equatable {
    public struct Zone: Sendable, Equatable {
        public var name: String
        public var members: Set<WWN>
    }

    public var zones: [Zone]

    /// The all-access zone set.
    public static let allAccess = ZoneSet(zones: [])
    public var isAllAccess: Bool { zones.isEmpty }

    public init(zones: [Zone]) { self.zones = zones }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let line: Int
        public let message: String
        public var description: String { "zone file line \(line): \(message)" }
    }

    /// Parses a zone file's text.
    public init(parsing text: String) throws(ParseError) {
        var zones: [Zone] = []
        var names = Set<String>()
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let colon = trimmed.firstIndex(of: ":"),
                  case let name = trimmed[..<colon].trimmingCharacters(in: .whitespaces), !name.isEmpty,
                  name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw ParseError(line: i + 1, message: "expected `NAME: WWPN …`")
            }
            guard names.insert(name).inserted else { throw ParseError(line: i + 1, message: "zone \(name) defined twice") }
            var members = Set<WWN>()
            let rest = trimmed[trimmed.index(after: colon)...]
            for token in rest.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == ";" }) {
                guard let w = WWN(String(token)) else {
                    throw ParseError(line: i + 1, message: "`\(token)` is not a WWPN")
                }
                members.insert(w)
            }
            guard !members.isEmpty else { throw ParseError(line: i + 1, message: "zone \(name) has no members") }
            zones.append(Zone(name: name, members: members))
        }
        self.zones = zones
    }

    /// Whether ports `a` and `b` share a zone (a port always sees itself).
    public func permits(_ a: WWN, _ b: WWN) -> Bool {
        if isAllAccess || a == b { return true }
        return zones.contains { $0.members.contains(a) && $0.members.contains(b) }
    }
}
