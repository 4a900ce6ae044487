import FCLink
import FCPort
import Runtime
import STMF

/// An initiator's image pair: the STMF session and what PLOGI told us about the port.
struct SessionEntry {
    var session: Session
    var remote: RemotePort
}

/// The port's command-path state, owned by its event loop: the exchange machine, the image
/// pairs, the task of each exchange, the pools, and the output of the loop's turn.
final class PortCore: @unchecked Sendable {
    var machine: TargetExchangeMachine
    var sessions: [FCID: SessionEntry] = [:]
    var tasks: [TargetExchangeMachine.Key: SCSITask] = [:]
    let pool = TaskPool()
    var actions: [TargetExchangeMachine.Action] = []
    var out: [UInt8] = []
    var performing = false
    /// The loop clock's reading that is the machine's time zero.
    let origin: UInt64

    init(origin: UInt64) {
        self.origin = origin
        machine = TargetExchangeMachine(dataTimeout: .seconds(20))
        tasks.reserveCapacity(512)
        actions.reserveCapacity(16)
        out.reserveCapacity(1 << 16)
    }

    /// Now on the machine's time line.
    func now(_ loop: EventLoop) -> FCInstant { FCInstant(.nanoseconds(Int64(loop.clock.now() &- origin))) }
}
