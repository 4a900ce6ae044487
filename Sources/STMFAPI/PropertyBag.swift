import Foundation

/// Provider property bags on the wire: a JSON object of strings, named as `stmfadm create-lu
/// -p name=value` names them. Read leniently: a value may also be a JSON integer or boolean,
/// as LU properties were before the provider registry (SBD's typed properties in export
/// format 1, the store's first schema and the first API), and reads as its decimal or
/// true/false spelling. Written as strings only.
public enum PropertyBag {
    /// One value as it may appear: a string, an integer or a boolean.
    struct Value: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { text = s }
            else if let i = try? c.decode(Int64.self) { text = String(i) }
            else if let u = try? c.decode(UInt64.self) { text = String(u) }
            else if let b = try? c.decode(Bool.self) { text = String(b) }
            else { throw DecodingError.typeMismatch(String.self, .init(codingPath: c.codingPath, debugDescription: "a property value is a string, an integer or a boolean")) }
        }
    }

    /// The bag under `key`, or nil when the key is absent.
    static func decodeIfPresent<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> [String: String]? {
        try c.decodeIfPresent([String: Value].self, forKey: key)?.mapValues(\.text)
    }

    /// A bag from JSON text (the store's `properties` column, either schema).
    public static func decode(json: Data) throws -> [String: String] {
        try JSONDecoder().decode([String: Value].self, from: json).mapValues(\.text)
    }
}
