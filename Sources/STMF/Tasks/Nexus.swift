/// An I_T nexus as the LU provider sees it: who is asking, through which local port.
/// One instance per session, shared by all of its tasks.
public final class Nexus: Sendable, CustomStringConvertible {
    public let sessionID: UInt64
    public let initiator: PortIdentifier
    /// The initiator's SPC-4 TransportID (used by persistent reservations).
    public let initiatorTransportID: [UInt8]
    public let targetPort: PortIdentifier
    /// Relative target port identifier (1...65535), unique per STMF instance.
    public let relativeTargetPortID: UInt16
    /// Target port group (ALUA) the port belongs to.
    public let targetPortGroupID: UInt16

    public init(sessionID: UInt64, initiator: PortIdentifier, targetPort: PortIdentifier,
                relativeTargetPortID: UInt16, targetPortGroupID: UInt16) {
        self.sessionID = sessionID
        self.initiator = initiator
        self.initiatorTransportID = initiator.transportID
        self.targetPort = targetPort
        self.relativeTargetPortID = relativeTargetPortID
        self.targetPortGroupID = targetPortGroupID
    }

    public var description: String { "\(initiator)→\(targetPort)" }
}
