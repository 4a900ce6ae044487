import STMF

/// MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES, REPORT SUPPORTED TASK MANAGEMENT
/// FUNCTIONS and REPORT TARGET PORT GROUPS, encoded by STMF's SCSI library over SBD's table.
extension SBDLogicalUnit {
    static let supportedCommands: [SupportedCommand] = SBDCommandTable.all.map {
        SupportedCommand(opcode: $0.opcode, serviceAction: $0.serviceAction, usage: $0.usage, timeout: $0.timeout)
    }

    func reportSupportedOperationCodes(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let d = try SupportedOperations.report(t.cdb, commands: Self.supportedCommands,
                                               hasServiceActions: SBDCommandTable.hasServiceActions)
        return t.respond(with: d, allocationLength: Int(t.cdb.u32(6)))
    }

    func reportSupportedTMFs(_ t: LUTask) -> TaskResponse {
        t.respond(with: SupportedOperations.taskManagementFunctions(t.cdb), allocationLength: Int(t.cdb.u32(6)))
    }

    func reportTargetPortGroups(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let d = try SCSIIdentification.reportTargetPortGroups(format: t.cdb[1] >> 5, ports: services?.targetPorts() ?? [],
                                                              nexus: t.nexus)
        return t.respond(with: d, allocationLength: Int(t.cdb.u32(6)))
    }
}
