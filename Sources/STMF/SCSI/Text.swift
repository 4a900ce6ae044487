extension String {
    /// The text without the spaces, tabs, newlines and NULs around it: how sysfs and configfs
    /// attributes end and how INQUIRY's ASCII fields are padded (the LU providers, TCMU and the
    /// LIO binding read them).
    package var trimmingWhitespace: String {
        func blank(_ c: Character) -> Bool { c == " " || c == "\n" || c == "\t" || c == "\0" }
        var s = Substring(self)
        while let f = s.first, blank(f) { s = s.dropFirst() }
        while let l = s.last, blank(l) { s = s.dropLast() }
        return String(s)
    }
}
