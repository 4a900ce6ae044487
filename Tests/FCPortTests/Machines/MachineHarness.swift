@testable import FCPort
import STMF
import Testing

/// The timers a machine asked for, run against a manual clock (NIOEmbedded's role for FC):
/// `advance` moves time forward and fires what falls due, in deadline order.
struct ManualTimers {
    private(set) var now = FCInstant.zero
    private(set) var deadlines: [MachineTimerID: FCInstant] = [:]

    mutating func start(_ id: MachineTimerID, _ deadline: FCInstant) {
        #expect(deadline >= now, "a timer set in the past")
        deadlines[id] = deadline
    }

    mutating func cancel(_ id: MachineTimerID) { deadlines[id] = nil }

    /// The next timer due by `end`, removed, with the clock moved to its deadline.
    mutating func nextDue(by end: FCInstant) -> MachineTimerID? {
        guard let (id, at) = deadlines.filter({ $0.value <= end })
            .min(by: { ($0.value, $0.key.rawValue) < ($1.value, $1.key.rawValue) }) else {
            now = max(now, end)
            return nil
        }
        deadlines[id] = nil
        now = at
        return id
    }
}

/// A machine under test with its manual timers: `advance` fires them as they fall due.
protocol DrivenMachine {
    var timers: ManualTimers { get set }
    mutating func handleTimer(_ id: MachineTimerID)
}

extension DrivenMachine {
    var now: FCInstant { timers.now }

    /// Moves the clock on by `d`, firing the timers that fall due.
    mutating func advance(_ d: Duration) {
        let end = timers.now + d
        while let id = timers.nextDue(by: end) { handleTimer(id) }
    }
}

/// Encodes `frame` and decodes it again: what a machine sends must survive the codec.
func roundTrip(_ frame: FCFrame, sourceLocation: SourceLocation = #_sourceLocation) -> FCFrame {
    var decoded = try? FCFrame(decoding: frame.encoded())
    let onTheWire = decoded
    if let d = decoded {      // F_CTL's fill-byte count is the encoder's to set
        decoded?.header.control = d.header.control.withFillBytes(frame.header.control.fillBytes)
    }
    #expect(decoded == frame, "frame does not survive encoding", sourceLocation: sourceLocation)
    return onTheWire ?? frame
}

/// The frames of encoded frame-stream records.
func frames(ofRecords records: [UInt8]) -> [FCFrame] {
    var out: [FCFrame] = []
    _ = records.withUnsafeBytes { p in
        try? FrameStream.parse(p) { record, _ in
            if case .frame(let bytes) = record, let f = try? FCFrame(decoding: bytes) { out.append(f) }
        }
    }
    return out
}

struct MissingFrame: Error {}
