/// One wording for each mistake an administrator can make when naming something, shared by
/// the CLIs (which check before they ask), the service and the providers, so the same mistake
/// reads the same wherever it is caught, and says what the name must be.
public enum Wording {
    /// What an LU name must be.
    public static let guidRule = "must be 32 hexadecimal digits, an NAA type 6 GUID (such as 600144F0…)"
    public static func invalidGUID(_ text: String) -> String { "\(text): invalid logical unit name: \(guidRule)" }

    /// What an FC world wide name must be.
    public static let wwnRule = "must be 16 hexadecimal digits, optionally with colons or a wwn. prefix"
    /// `what`: "WWN", "port WWN", "node WWN".
    public static func invalidWWN(_ text: String, _ what: String = "WWN") -> String { "\(text): invalid \(what): \(wwnRule)" }

    /// What a size must be (`-s`, `-p size=`).
    public static let sizeRule = "a number of bytes, optionally with a k, m, g, t, p or e suffix (powers of 1024)"
    public static func invalidSize(_ text: String) -> String { "\(text): not a size: \(sizeRule)" }

    /// A number given negative where only 0 or more makes sense (`-n -1`).
    public static func negative(_ text: String, _ what: String) -> String { "\(text): \(what) must not be negative" }

    /// A number that is not one (`-n x`).
    public static func notANumber(_ text: String, _ what: String) -> String { "\(text): \(what) must be a decimal number" }

    /// A logical unit number outside 0…16383 (`add-view -n`).
    public static func lunOutOfRange(_ text: String) -> String {
        text.hasPrefix("-") ? negative(text, "logical unit number") : "\(text): logical unit number out of range (0-16383)"
    }
}
