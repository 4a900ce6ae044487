import STMF

/// Login service parameters carried by FLOGI, PLOGI, FDISC and their LS_ACC (FC-LS-3):
/// the command word, 16 bytes of common service parameters, port and node name, four
/// classes of service parameters and the vendor version level — 116 bytes in all, or 256
/// when the common features announce the larger payload.
public struct ServiceParameters: Sendable, Equatable {
    /// Common features bits (common service parameters word 1, bits 31-16).
    public struct CommonFeatures: OptionSet, Sendable, Hashable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// Continuously increasing relative offset (PLOGI); NPIV supported (FLOGI);
        /// clean address (FLOGI LS_ACC). All share bit 31.
        public static let continuouslyIncreasingRelativeOffset = Self(rawValue: 0x8000)
        /// Random relative offset.
        public static let randomRelativeOffset = Self(rawValue: 0x4000)
        /// Vendor version level valid (PLOGI); NPIV assignment (FLOGI LS_ACC).
        public static let vendorVersionLevelValid = Self(rawValue: 0x2000)
        /// Set by an F_Port (FLOGI LS_ACC); clear for an N_Port.
        public static let fPort = Self(rawValue: 0x1000)
        /// Alternate BB_Credit management.
        public static let alternateBBCreditManagement = Self(rawValue: 0x0800)
        /// E_D_TOV is in nanoseconds rather than milliseconds.
        public static let edTOVResolutionNanoseconds = Self(rawValue: 0x0400)
        /// Multicast supported.
        public static let multicast = Self(rawValue: 0x0200)
        /// Broadcast supported.
        public static let broadcast = Self(rawValue: 0x0100)
        /// Hunt group.
        public static let huntGroup = Self(rawValue: 0x0080)
        /// Dedicated simplex.
        public static let dedicatedSimplex = Self(rawValue: 0x0040)
        /// Clock synchronization primitive capable.
        public static let clockSynchronization = Self(rawValue: 0x0010)
        /// R_T_TOV in units of 100 µs instead of 100 ms.
        public static let rtTOVMicroseconds = Self(rawValue: 0x0008)
        /// Dynamic half duplex.
        public static let dynamicHalfDuplex = Self(rawValue: 0x0004)
        /// SEQ_CNT: continuously increasing sequence count.
        public static let sequenceCount = Self(rawValue: 0x0002)
        /// The payload is 256 bytes instead of 116 (FLOGI/FDISC).
        public static let payloadLength256 = Self(rawValue: 0x0001)
    }

    /// Service options of a class (class service parameters word 0, bits 31-16).
    public struct ClassOptions: OptionSet, Sendable, Hashable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// The class is supported; the other fields are meaningful only with it.
        public static let valid = Self(rawValue: 0x8000)
        /// Intermix mode.
        public static let intermix = Self(rawValue: 0x4000)
        /// Sequential delivery (class 2 and 3 in FLOGI LS_ACC).
        public static let sequentialDelivery = Self(rawValue: 0x0800)
        /// Camp-on.
        public static let campOn = Self(rawValue: 0x0200)
        /// Priority.
        public static let priority = Self(rawValue: 0x0080)
    }

    /// Service parameters of one class of service (16 bytes).
    public struct ClassParameters: Sendable, Equatable {
        public var options: ClassOptions
        public var initiatorControl: UInt16
        public var recipientControl: UInt16
        /// Largest data field this port receives in this class (bytes; bits 11-0 used).
        public var receiveDataFieldSize: UInt16
        /// Total concurrent sequences.
        public var concurrentSequences: UInt16
        /// N_Port end-to-end credit.
        public var endToEndCredit: UInt16
        /// Open sequences per exchange.
        public var openSequencesPerExchange: UInt8

        public init(options: ClassOptions = [], initiatorControl: UInt16 = 0, recipientControl: UInt16 = 0,
                    receiveDataFieldSize: UInt16 = 0, concurrentSequences: UInt16 = 0,
                    endToEndCredit: UInt16 = 0, openSequencesPerExchange: UInt8 = 0) {
            self.options = options
            self.initiatorControl = initiatorControl
            self.recipientControl = recipientControl
            self.receiveDataFieldSize = receiveDataFieldSize
            self.concurrentSequences = concurrentSequences
            self.endToEndCredit = endToEndCredit
            self.openSequencesPerExchange = openSequencesPerExchange
        }

        /// A class that is not supported: all zero.
        public static let unsupported = ClassParameters()

        /// Whether the class is supported.
        public var isValid: Bool { options.contains(.valid) }

        /// Class 3 as this implementation offers it: sequential delivery, 2048-byte frames,
        /// 255 concurrent sequences, one open sequence per exchange.
        public static func class3(receiveDataFieldSize: UInt16 = 2048) -> ClassParameters {
            ClassParameters(options: [.valid, .sequentialDelivery], receiveDataFieldSize: receiveDataFieldSize,
                            concurrentSequences: 255, openSequencesPerExchange: 1)
        }
    }

    /// FC-PH version fields (obsolete in FC-LS-3 but still sent; 0x20 = FC-PH-3 era).
    public var highestVersion: UInt8
    public var lowestVersion: UInt8
    /// Buffer-to-buffer credit.
    public var bbCredit: UInt16
    public var commonFeatures: CommonFeatures
    /// BB_SC_N (4 bits).
    public var bbStateChangeNumber: UInt8
    /// Buffer-to-buffer receive data field size (12 bits).
    public var receiveDataFieldSize: UInt16
    /// Common service parameters word 3. In an F_Port's FLOGI LS_ACC it is R_A_TOV (ms);
    /// in PLOGI it holds total concurrent sequences and relative offset by category.
    public var word3: UInt32
    /// E_D_TOV, in ms, or in ns when `commonFeatures` has `.edTOVResolutionNanoseconds`.
    public var errorDetectTimeout: UInt32
    public var portName: WWN
    /// Node name, or fabric name in an F_Port's FLOGI LS_ACC.
    public var nodeName: WWN
    public var class1: ClassParameters
    public var class2: ClassParameters
    public var class3: ClassParameters
    public var class4: ClassParameters
    /// Vendor version level: always 16 bytes (shorter is zero-filled, longer cut).
    public var vendorVersionLevel: [UInt8] {
        didSet { vendorVersionLevel = vendorVersionLevel.zeroPadded(to: 16) }
    }
    /// Bytes 116-255 of a 256-byte payload (`commonFeatures.payloadLength256`); empty otherwise.
    public var extendedParameters: [UInt8]

    /// Length of the standard payload.
    public static let size = 116
    /// Length of the payload when `.payloadLength256` is set.
    public static let extendedSize = 256

    /// Total concurrent sequences (PLOGI meaning of word 3, bits 31-16).
    public var totalConcurrentSequences: UInt16 {
        get { UInt16(truncatingIfNeeded: word3 >> 16) }
        set { word3 = UInt32(newValue) << 16 | (word3 & 0xFFFF) }
    }
    /// Relative offset by information category (PLOGI meaning of word 3, bits 15-0).
    public var relativeOffsetByCategory: UInt16 {
        get { UInt16(truncatingIfNeeded: word3) }
        set { word3 = (word3 & 0xFFFF_0000) | UInt32(newValue) }
    }
    /// R_A_TOV in ms (FLOGI LS_ACC meaning of word 3).
    public var resourceAllocationTimeout: UInt32 {
        get { word3 }
        set { word3 = newValue }
    }

    public init(highestVersion: UInt8 = 0x20, lowestVersion: UInt8 = 0x20, bbCredit: UInt16 = 20,
                commonFeatures: CommonFeatures = [.continuouslyIncreasingRelativeOffset, .alternateBBCreditManagement],
                bbStateChangeNumber: UInt8 = 0, receiveDataFieldSize: UInt16 = 2048, word3: UInt32 = 0x00FF_001F,
                errorDetectTimeout: UInt32 = 2000, portName: WWN, nodeName: WWN,
                class1: ClassParameters = .unsupported, class2: ClassParameters = .unsupported,
                class3: ClassParameters = .class3(), class4: ClassParameters = .unsupported,
                vendorVersionLevel: [UInt8] = [], extendedParameters: [UInt8] = []) {
        self.highestVersion = highestVersion
        self.lowestVersion = lowestVersion
        self.bbCredit = bbCredit
        self.commonFeatures = commonFeatures
        self.bbStateChangeNumber = bbStateChangeNumber
        self.receiveDataFieldSize = receiveDataFieldSize
        self.word3 = word3
        self.errorDetectTimeout = errorDetectTimeout
        self.portName = portName
        self.nodeName = nodeName
        self.class1 = class1
        self.class2 = class2
        self.class3 = class3
        self.class4 = class4
        self.vendorVersionLevel = vendorVersionLevel.zeroPadded(to: 16)
        self.extendedParameters = extendedParameters
    }

    /// An N_Port's FLOGI/PLOGI/FDISC parameters (and its PLOGI LS_ACC): class 3 only, 2048-byte
    /// frames, E_D_TOV 2000 ms, 255 concurrent sequences.
    public static func nPort(portName: WWN, nodeName: WWN, receiveDataFieldSize: UInt16 = 2048) -> ServiceParameters {
        ServiceParameters(receiveDataFieldSize: receiveDataFieldSize, portName: portName, nodeName: nodeName,
                          class3: .class3(receiveDataFieldSize: receiveDataFieldSize))
    }

    /// An F_Port's FLOGI LS_ACC: F_Port bit set, R_A_TOV 10000 ms, E_D_TOV 2000 ms, class 3.
    public static func fPort(portName: WWN, fabricName: WWN, receiveDataFieldSize: UInt16 = 2048) -> ServiceParameters {
        ServiceParameters(commonFeatures: [.fPort, .alternateBBCreditManagement], receiveDataFieldSize: receiveDataFieldSize,
                          word3: 10_000, portName: portName, nodeName: fabricName,
                          class3: .class3(receiveDataFieldSize: receiveDataFieldSize))
    }

    /// Whether these are an F_Port's parameters (FLOGI LS_ACC from a fabric).
    public var isFPort: Bool { commonFeatures.contains(.fPort) }

    /// The payload with `command` (FLOGI, PLOGI, FDISC or LS_ACC) in its first byte.
    public func encoded(command: ELSCommandCode) -> [UInt8] {
        var w = ByteWriter(capacity: Self.size + extendedParameters.count)
        w.commandWord(command.rawValue)
        w.u8(highestVersion)
        w.u8(lowestVersion)
        w.u16(bbCredit)
        w.u16(commonFeatures.rawValue)
        w.u16(UInt16(bbStateChangeNumber & 0x0F) << 12 | receiveDataFieldSize & 0x0FFF)
        w.u32(word3)
        w.u32(errorDetectTimeout)
        w.wwn(portName)
        w.wwn(nodeName)
        for c in [class1, class2, class3, class4] {
            w.u16(c.options.rawValue)
            w.u16(c.initiatorControl)
            w.u16(c.recipientControl)
            w.u16(c.receiveDataFieldSize)
            w.u16(c.concurrentSequences)
            w.u16(c.endToEndCredit)
            w.u8(0)
            w.u8(c.openSequencesPerExchange)
            w.u16(0)
        }
        w.append(vendorVersionLevel)
        w.append(extendedParameters)
        return w.bytes
    }

    /// Decodes the payload of `command` (whose code the caller has already matched): exactly
    /// 116 bytes, or 256 when the common features announce it.
    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>, command: ELSCommandCode) throws(ELSDecodeError) -> ServiceParameters {
        guard r.count >= 12 else { throw .invalidLength(command, actual: r.count) }
        let features = CommonFeatures(rawValue: r.u16(at: 8))
        let expected = features.contains(.payloadLength256) ? extendedSize : size
        guard r.count == expected else { throw .invalidLength(command, actual: r.count) }
        func classParameters(at o: Int) -> ClassParameters {
            ClassParameters(options: ClassOptions(rawValue: r.u16(at: o)), initiatorControl: r.u16(at: o + 2),
                            recipientControl: r.u16(at: o + 4), receiveDataFieldSize: r.u16(at: o + 6),
                            concurrentSequences: r.u16(at: o + 8), endToEndCredit: r.u16(at: o + 10),
                            openSequencesPerExchange: r[o + 13])
        }
        let bbData = r.u16(at: 10)
        return ServiceParameters(
            highestVersion: r[4], lowestVersion: r[5], bbCredit: r.u16(at: 6), commonFeatures: features,
            bbStateChangeNumber: UInt8(bbData >> 12), receiveDataFieldSize: bbData & 0x0FFF,
            word3: r.u32(at: 12), errorDetectTimeout: r.u32(at: 16),
            portName: r.wwn(at: 20), nodeName: r.wwn(at: 28),
            class1: classParameters(at: 36), class2: classParameters(at: 52),
            class3: classParameters(at: 68), class4: classParameters(at: 84),
            vendorVersionLevel: r.bytes(at: 100, count: 16), extendedParameters: r.bytes(from: size))
    }
}
