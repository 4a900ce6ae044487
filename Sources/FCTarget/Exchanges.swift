import FCLink
import FCPort
import STMF

/// An initiator's image pair: the STMF session and what PLOGI told us about the port.
struct SessionEntry {
    var session: Session
    var remote: RemotePort
}

/// One FCP exchange the target is responder of, keyed by (S_ID, OX_ID).
struct Exchange {
    enum Phase { case receivingData, executing }
    var rxID: UInt16
    var phase: Phase
    var command: FCPCommand
    var session: Session
    var remote: RemotePort
    var dataOut: IOBuffer?
    /// Bytes the command moves: FCP_DL, or less when the CDB calls for less (`Session.prepare`).
    var dataLength: Int
    /// The STMF task (submitted once the exchange exists).
    var task: SCSITask?
    /// The frame header of the FCP_CMND, which every answer is a reply to.
    var header: FrameHeader
    /// Write data that has arrived (a duplicated FCP_DATA frame counts once).
    var received = ReceivedRanges()
    var lastActivity: ContinuousClock.Instant
}

struct ExchangeKey: Hashable {
    var source: FCID
    var oxID: UInt16
}

/// The target port's sessions and open exchanges (behind one lock).
struct ExchangeTable {
    var sessions: [FCID: SessionEntry] = [:]
    var exchanges: [ExchangeKey: Exchange] = [:]
    var nextRX: UInt16 = 0
    /// Exchanges dropped because their data stopped arriving.
    var reclaimed = 0
    /// FCP_CMND frames received twice for a live exchange (discarded).
    var duplicateFrames = 0

    mutating func allocateRX() -> UInt16 {
        nextRX = nextRX >= 0xFFFE ? 1 : nextRX + 1
        return nextRX
    }

    /// Forgets the exchanges of an initiator; returns the tasks that were waiting for their data.
    mutating func dropExchanges(from id: FCID) -> [SCSITask] {
        var waiting: [SCSITask] = []
        exchanges = exchanges.filter { k, x in
            guard k.source == id else { return true }
            if x.phase == .receivingData, let t = x.task { waiting.append(t) }
            return false
        }
        return waiting
    }

    /// Forgets every exchange; returns the tasks that were waiting for their data.
    mutating func dropAll() -> [SCSITask] {
        let waiting = exchanges.values.compactMap { $0.phase == .receivingData ? $0.task : nil }
        exchanges.removeAll()
        return waiting
    }
}
