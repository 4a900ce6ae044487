/// Start-of-frame delimiters as 32-bit ordered sets (FC-FS-4 table 22), class 3 only.
public enum StartOfFrame: UInt32, Sendable, Hashable {
    /// SOFi3: the first frame of a class-3 sequence.
    case initiate3 = 0xBCB5_5656
    /// SOFn3: a following frame of a class-3 sequence.
    case normal3 = 0xBCB5_3636
}

/// End-of-frame delimiters (FC-FS-4 table 23).
public enum EndOfFrame: UInt32, Sendable, Hashable {
    /// EOFt: the last frame of a sequence.
    case terminate = 0xBC95_7575
    /// EOFn: any other frame.
    case normal = 0xBC95_D5D5
}
