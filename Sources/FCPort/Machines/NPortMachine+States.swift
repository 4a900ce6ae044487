import STMF

extension NPortMachine {
    /// Started, not connected: waiting to connect (again).
    struct ConnectingState: Sendable {
        var reconnectTimer: MachineTimerID?
    }

    /// The link is up and the port is logging in to the fabric: FLOGI, PLOGI to the name
    /// server, RFT_ID, RFF_ID, RSPN_ID, SCR, one after the other; any failure starts over with
    /// FLOGI after a backoff that grows with each attempt.
    struct FabricLoginState: Sendable {
        enum Step: Sendable, Equatable {
            case flogi
            case nameServerLogin
            case registerTypes
            case registerFeatures
            case registerSymbolicName
            case stateChangeRegistration
            /// Waiting for the retry timer.
            case backoff(MachineTimerID)
        }

        var attempt = 1
        var step = Step.flogi
        /// The N_Port ID FLOGI's LS_ACC assigned.
        var portID = FCID.unassigned

        /// How long to wait before attempt `attempt + 1`.
        var backoff: Duration { .milliseconds(min(2000, 100 * attempt)) }
    }

    /// Logged in to the fabric.
    struct OnlineState: Sendable {
        var portID: FCID
        /// Remote ports logged in with PLOGI (theirs or ours).
        var remotes: [FCID: RemotePort] = [:]
        /// PRLIs waiting for the FC-4's answer.
        var processLogins: [UInt64: PendingProcessLogin] = [:]
        var nextToken: UInt64 = 1

        init(portID: FCID) { self.portID = portID }
    }

    /// A PRLI the FC-4 has been asked about: the frame to answer and the page it carried.
    struct PendingProcessLogin: Sendable {
        var header: FrameHeader
        var portName: WWN
        var page: ServiceParameterPage
    }
}
