import Testing
@testable import FCPort
import STMF

let sampleCommands: [FCPCommand] = [
    FCPCommand(lun: 0, cdb: [0x00, 0, 0, 0, 0, 0]),
    FCPCommand(lun: LUNAddress.field(for: 1), cdb: [0x12, 0, 0, 0, 36, 0], direction: .read, dataLength: 36),
    FCPCommand(lun: LUNAddress.field(for: 300), cdb: [0x2A, 0, 0, 0, 0, 0x10, 0, 0, 1, 0], direction: .write, dataLength: 512,
               taskAttribute: .ordered, priority: 5, commandReferenceNumber: 9),
    FCPCommand(lun: 0, cdb: (0..<32).map { UInt8($0) }, direction: .read, dataLength: 1 << 20, taskAttribute: .headOfQueue),
    FCPCommand(lun: 0, cdb: [UInt8](repeating: 0x7F, count: FCPCommand.maximumCDBLength), taskAttribute: .aca),
    FCPCommand(lun: 0, cdb: [0], taskAttribute: .untagged),
    FCPCommand(lun: LUNAddress.field(for: 2), taskManagement: .logicalUnitReset),
    FCPCommand(lun: 0, taskManagement: .targetReset),
]

let sampleResponses: [FCPResponse] = [
    FCPResponse(),
    FCPResponse(status: .checkCondition, sense: hex("700006000000000a00000000290000000000")),
    FCPResponse(residual: .underflow(4072)),
    FCPResponse(status: .good, residual: .overflow(512), confirmationRequested: true),
    FCPResponse(responseCode: .taskManagementFunctionComplete),
    FCPResponse(status: .busy, responseCode: .commandFieldsInvalid, statusQualifier: 0x4001),
]

@Suite struct FCPTests {
    @Test func commandsRoundTrip() throws {
        for c in sampleCommands {
            let bytes = c.encoded()
            #expect(bytes.count == 32 + 4 * c.additionalCDBLength)
            #expect(try FCPCommand.decode(bytes) == c)
        }
    }

    @Test func responsesAndTransferReadyRoundTrip() throws {
        for r in sampleResponses { #expect(try FCPResponse.decode(r.encoded()) == r) }
        let x = TransferReady(relativeOffset: 2048, burstLength: 65536)
        #expect(try TransferReady.decode(x.encoded()) == x)
    }

    @Test func commandMatchesWiresharkLayout() throws {
        // genfc.py's WRITE(10) of one block: LUN 0, WRDATA, FCP_DL 512.
        let bytes = hex("00000000 00000000 00000001 2a000000 00100000 01000000 00000000 00000200")
        let c = try FCPCommand.decode(bytes)
        #expect(c.lun == 0 && c.direction == .write && c.dataLength == 512 && c.taskAttribute == .simple)
        #expect(Array(c.cdb.prefix(10)) == [0x2A, 0, 0, 0, 0, 0x10, 0, 0, 1, 0] && c.cdb.count == 16)
        #expect(c.encoded() == bytes)
        // Field by field from FCP-4: LUN 5 (peripheral), CRN 7, ORDERED with priority 3, RDDATA,
        // one additional CDB word, FCP_DL after the 20-byte CDB.
        let c2 = FCPCommand(lun: LUNAddress.field(for: 5), cdb: (1...20).map { UInt8($0) }, direction: .read,
                            dataLength: 0x0102_0304, taskAttribute: .ordered, priority: 3, commandReferenceNumber: 7)
        #expect(c2.encoded() == hex("00050000 00000000 071a0006 0102030405060708090a0b0c0d0e0f10 11121314 01020304"))
        #expect(Array(FCPCommand(lun: 0, taskManagement: .abortTaskSet).encoded().prefix(12)) == hex("00000000 00000000 00000200"))
    }

    @Test func responseMatchesWiresharkLayout() throws {
        let sense = hex("700006000000000a00000000290000000000")
        let check = hex("00000000 00000000 00000202 00000000 00000012 00000000") + sense
        #expect(try FCPResponse.decode(check) == FCPResponse(status: .checkCondition, sense: sense))
        #expect(FCPResponse(status: .checkCondition, sense: sense).encoded() == check)
        let under = hex("00000000 00000000 00000800 00000fe8 00000000 00000000")
        #expect(try FCPResponse.decode(under) == FCPResponse(residual: .underflow(4072)))
        // FCP_RSP_INFO: 8 bytes, response code in byte 3; 4-byte form accepted too.
        let tmf = FCPResponse(taskManagement: .incorrectLogicalUnitNumber)
        #expect(tmf.encoded() == hex("00000000 00000000 00000100 00000000 00000000 00000008 00000009 00000000"))
        #expect(try FCPResponse.decode(hex("00000000 00000000 00000100 00000000 00000000 00000004 00000004")).responseCode == .taskManagementFunctionNotSupported)
        #expect(TransferReady(relativeOffset: 0, burstLength: 512).encoded() == hex("00000000 00000200 00000000"))
    }

    @Test func stmfMappings() throws {
        #expect(FCPTaskAttribute.untagged.taskAttribute == .simple)
        for a in TaskAttribute.allCases { #expect(FCPTaskAttribute(a).taskAttribute == a) }
        let lun = LUNAddress.field(for: 3)
        #expect(FCPCommand(lun: lun, taskManagement: .clearACA).taskManagementFunction == .clearACA(lun: lun))
        #expect(FCPCommand(lun: lun, taskManagement: .abortTaskSet).taskManagementFunction == .abortTaskSet(lun: lun))
        #expect(FCPCommand(lun: lun, cdb: [0]).taskManagementFunction == nil)
        #expect(FCPCommand.Direction.write.dataDirection == .write)
        let under = FCPResponse(TaskResponse(status: .good, dataLength: 24, intendedLength: 24), expectedLength: 4096)
        #expect(under.residual == .underflow(4072))
        let over = FCPResponse(TaskResponse(status: .good, dataLength: 512, intendedLength: 1024), expectedLength: 512)
        #expect(over.residual == .overflow(512))
        let exact = FCPResponse(TaskResponse(status: .good, dataLength: 512, intendedLength: 512), expectedLength: 512)
        #expect(exact.residual == .none && exact.sense.isEmpty)
        let check = FCPResponse(TaskResponse(error: .invalidOperationCode, descriptorSense: false), expectedLength: 0)
        #expect(check.status == .checkCondition && check.sense.first == 0x70)
        #expect(FCPResponse(taskManagement: .functionComplete).responseCode == .taskManagementFunctionComplete)
    }

    @Test func malformedCommandsNameTheirResponse() {
        let invalid = FCPResponseCode.commandFieldsInvalid
        let good = sampleCommands[1].encoded()
        let cases: [([UInt8], FCPDecodeError, FCPResponseCode)] = [
            ([], .truncated(actual: 0), invalid),
            (Array(good.prefix(31)), .truncated(actual: 31), invalid),
            (good.with(11, 0x06), .truncated(actual: 32), invalid),                      // one additional word, not there
            (good + [0, 0, 0, 0], .lengthMismatch(expected: 32, actual: 36), invalid),
            (good + [0], .lengthMismatch(expected: 32, actual: 33), invalid),
            (good.with(11, 0x03), .bidirectional, invalid),
            (good.with(10, 0x10), .taskManagementWithData, invalid),
            (good.with(11, 0).with(10, 0x12), .multipleTaskManagementFlags(0x12), invalid),
            (good.with(11, 0).with(10, 0x08), .unsupportedTaskManagement(0x08), .taskManagementFunctionNotSupported),
            (good.with(11, 0).with(10, 0x80), .unsupportedTaskManagement(0x80), .taskManagementFunctionNotSupported),
            (good.with(11, 0).with(10, 0x01), .unsupportedTaskManagement(0x01), .taskManagementFunctionNotSupported),
            (good.with(9, 0x03), .reservedTaskAttribute(3), invalid),
            (good.with(9, 0x07), .reservedTaskAttribute(7), invalid),
        ]
        for (bytes, error, code) in cases {
            #expect(throws: error, "\(bytes)") { try FCPCommand.decode(bytes) }
            #expect(error.responseCode == code)
            #expect(error.rejection.responseCode == code && error.rejection.status == .good)
        }
    }

    @Test func malformedResponsesAndTransferReady() {
        let ok = FCPResponse(status: .checkCondition, sense: [0x70, 0, 5, 0]).encoded()
        #expect(throws: FCPDecodeError.truncated(actual: 23)) { try FCPResponse.decode(Array(ok.prefix(23))) }
        #expect(throws: FCPDecodeError.lengthMismatch(expected: 28, actual: 27)) { try FCPResponse.decode(Array(ok.dropLast())) }
        #expect(throws: FCPDecodeError.lengthMismatch(expected: 28, actual: 29)) { try FCPResponse.decode(ok + [0]) }
        #expect(throws: FCPDecodeError.conflictingResidualFlags) { try FCPResponse.decode(ok.with(10, 0x0E)) }
        #expect(throws: FCPDecodeError.invalidResponseInfoLength(2)) { try FCPResponse.decode(ok.with(10, 0x03).with(23, 2)) }
        #expect(throws: FCPDecodeError.lengthMismatch(expected: 0x0100_001C, actual: 28)) { try FCPResponse.decode(ok.with(16, 1)) }
        #expect(throws: FCPDecodeError.invalidTransferReadyLength(actual: 8)) { try TransferReady.decode([UInt8](repeating: 1, count: 8)) }
        #expect(throws: FCPDecodeError.invalidTransferReadyLength(actual: 16)) { try TransferReady.decode([UInt8](repeating: 1, count: 16)) }
        #expect(throws: FCPDecodeError.zeroBurstLength) { try TransferReady.decode([UInt8](repeating: 0, count: 12)) }
    }

    @Test func fuzzedPayloadsNeverTrap() {
        let seeds = sampleCommands.map { $0.encoded() } + sampleResponses.map { $0.encoded() } + [TransferReady(relativeOffset: 0, burstLength: 8).encoded()]
        var decoded = 0
        fuzzPayloads(seeds: seeds) { p in
            do throws(FCPDecodeError) {
                let c = try FCPCommand.decode(p)
                decoded += 1
                #expect((try? FCPCommand.decode(c.encoded())) == c)
            } catch {
                _ = error.rejection
            }
            if let r = try? FCPResponse.decode(p) { #expect((try? FCPResponse.decode(r.encoded())) == r) }
            if let x = try? TransferReady.decode(p) { #expect((try? TransferReady.decode(x.encoded())) == x) }
        }
        #expect(decoded > 100)
    }
}
