import STMF

extension SGRequest {
    /// The STMF command for this request: data-out copied into an `IOBuffer`, a data-in buffer
    /// of `transferLength` bytes for `.fromDevice`.
    public func scsiCommand(lun: UInt64, tag: UInt64, attribute: TaskAttribute = .simple) -> SCSICommand {
        let out: IOBuffer? = direction == .toDevice ? IOBuffer(copying: dataOut) : nil
        let inBuffer: IOBuffer? = direction == .fromDevice && transferLength > 0 ? IOBuffer(capacity: transferLength) : nil
        let dir: DataDirection = switch direction {
        case .none: .none
        case .toDevice: .write
        case .fromDevice: inBuffer == nil ? .none : .read
        }
        return SCSICommand(lun: lun, cdb: CDB(cdb), attribute: attribute, tag: tag, direction: dir,
                           expectedTransferLength: direction == .none ? 0 : transferLength,
                           dataOut: out, dataIn: inBuffer)
    }
}

extension SGReply {
    /// The reply for a command that STMF (or an initiator speaking to it) answered with
    /// `response`; data-in is taken from `command.dataIn`.
    public init(response: TaskResponse, command: SCSICommand) {
        let data: [UInt8] = command.direction == .read ? (command.dataIn?.array(response.dataLength) ?? []) : []
        if response.aborted && response.status != .taskAborted {
            self.init(hostStatus: SGHostStatus.abort, residual: command.expectedTransferLength)
            return
        }
        self.init(status: response.status.rawValue, dataIn: data,
                  residual: response.residual(expected: command.expectedTransferLength),
                  sense: response.senseBytes ?? [])
    }
}

extension Session {
    /// Runs `request` on this I_T nexus against `lun` (loopback use and tests).
    public func execute(_ request: SGRequest, lun: UInt16, tag: UInt64) async -> SGReply {
        let command = request.scsiCommand(lun: LUNAddress.field(for: lun), tag: tag)
        let response = await execute(command)
        return SGReply(response: response, command: command)
    }
}
